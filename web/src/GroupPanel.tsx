import { useState } from 'preact/hooks';
import { storage } from './storage';
import type { ChatStore } from './store';
import { Presence, SHOW_LABEL } from './ui';

/**
 * The "People" tab: the user's organisations (Chatta's residents and supporters) with who is online, live.
 * An administrator of the organisation calls with the seed's auto-answer: the resident's screen answers by
 * itself after the countdown set here (0: the resident answers by hand). Avatars are not shown: the
 * client's Content-Security-Policy loads images from Parley only, and avatar URLs point elsewhere.
 */
export function GroupPanel({ store }: { store: ChatStore }) {
  const [after, setAfter] = useState(() => Number(storage.get('parley.autoAnswer', 'local') ?? '10'));
  const save = (v: number) => {
    setAfter(v);
    storage.set('parley.autoAnswer', String(v), 'local');
  };
  const ids = [...store.groups.groups.keys()].sort();
  return (
    <section id="panel-people" role="tabpanel" aria-labelledby="tab-people" class="list-panel">
      {ids.some((g) => store.groups.isAdmin(g)) && (
        <label class="auto-setting">
          Residents answer by themselves after{' '}
          <input
            type="number"
            min="0"
            max="120"
            value={after}
            aria-label="Auto-answer after seconds (0: off)"
            onInput={(e) =>
              save(Math.max(0, Math.min(120, Number((e.target as HTMLInputElement).value) || 0)))
            }
          />{' '}
          s
        </label>
      )}
      {ids.map((g) => {
        const admin = store.groups.isAdmin(g);
        const members = store.groups.members(g).filter((m) => m.jid !== store.me.jid.split('/')[0]);
        const online = members.filter((m) => m.online).length;
        return (
          <div key={g}>
            <h2 class="subhead">
              {g} · {online} of {members.length} online
            </h2>
            <ul class="list" aria-label={`Members of ${g}`}>
              {members.map((m) => {
                const name = m.name ?? m.username;
                const active = store.calls.with(m.jid);
                return (
                  <li key={m.username} class="row member" data-online={m.online ? 'true' : 'false'}>
                    <Presence show={m.show} />
                    <button
                      type="button"
                      class="row-main link-row"
                      onClick={() => store.open({ kind: 'chat', id: m.jid })}
                    >
                      <span class="row-name" dir="auto">
                        {name}
                      </span>
                      <span class="row-sub" dir="auto">
                        {SHOW_LABEL[m.show] ?? m.show}
                        {m.site ? ` · ${m.site}` : ''}
                        {m.status ? ` · ${m.status}` : ''}
                      </span>
                    </button>
                    {active ? (
                      <button
                        type="button"
                        class="end-call"
                        onClick={() => void store.calls.end(active.callId)}
                      >
                        End
                      </button>
                    ) : (
                      <button
                        type="button"
                        disabled={!m.online}
                        aria-label={`Video call ${name}`}
                        onClick={() =>
                          void store.calls.start(m.jid, {
                            audioOnly: false,
                            autoAccept: admin && after > 0,
                            acceptAfter: after,
                          })
                        }
                      >
                        Call
                      </button>
                    )}
                  </li>
                );
              })}
            </ul>
          </div>
        );
      })}
    </section>
  );
}
