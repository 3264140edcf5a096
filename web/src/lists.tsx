import { useEffect, useState } from 'preact/hooks';
import { bare, localpart, type DirectoryUser } from './api';
import { summary } from './attachments';
import type { ChatStore } from './store';
import { Presence, SHOW_LABEL } from './ui';

/** The sidebar's lists: dialogues (with search and filters), rooms, and the agent console's queues. */

export function ChatList({ store }: { store: ChatStore }) {
  const [filter, setFilter] = useState('');
  const [found, setFound] = useState<DirectoryUser[]>([]);
  useEffect(() => {
    const q = filter.trim();
    if (q.length < 2) {
      setFound([]);
      return;
    }
    const t = setTimeout(() => {
      store.api.searchUsers(q).then(
        (r) => setFound(r.users),
        () => setFound([]),
      );
    }, 250);
    return () => clearTimeout(t);
  }, [filter]);
  const [kind, setKind] = useState<'all' | 'favorites' | 'blocked'>('all');
  const list = store.dialogues(filter, kind);
  const known = new Set(list.map((c) => c.peer));
  const extra =
    kind === 'blocked'
      ? []
      : found.filter(
          (u) => !known.has(u.jid) && u.jid !== bare(store.me.jid) && !store.roster.blocked.has(u.jid),
        );
  const open = (peer: string) => store.open({ kind: 'chat', id: peer });
  return (
    <section id="panel-chats" role="tabpanel" aria-labelledby="tab-chats" class="list-panel">
      <input
        class="search"
        type="search"
        placeholder="Search or start a chat"
        aria-label="Search contacts and users"
        value={filter}
        onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
      />
      <div class="filters" role="group" aria-label="Show">
        {(['all', 'favorites', 'blocked'] as const).map((k) => (
          <button key={k} type="button" aria-pressed={kind === k} onClick={() => setKind(k)}>
            {k === 'all' ? 'All' : k === 'favorites' ? 'Favorites' : 'Blocked'}
          </button>
        ))}
      </div>
      {store.roster.pendingRequests().length > 0 && (
        <ul class="requests" aria-label="Contact requests">
          {store.roster.pendingRequests().map((jid) => (
            <li key={jid}>
              <span dir="auto">{localpart(jid)}</span> wants to add you
              <button
                type="button"
                onClick={() => void store.roster.approve(jid)}
                aria-label={`Accept contact request from ${localpart(jid)}`}
              >
                Accept
              </button>
            </li>
          ))}
        </ul>
      )}
      <ul class="list" aria-label="Dialogues">
        {list.map((c) => {
          const last = c.messages[c.messages.length - 1];
          const active = store.view?.kind === 'chat' && store.view.id === c.peer;
          const name = store.roster.displayName(c.peer);
          return (
            <li key={c.peer}>
              <button
                type="button"
                class={`row ${active ? 'active' : ''}`}
                aria-current={active ? 'true' : undefined}
                data-peer={c.peer}
                aria-label={`${name}, ${SHOW_LABEL[store.roster.show(c.peer)] ?? 'offline'}${c.unread ? `, ${c.unread} unread` : ''}`}
                onClick={() => open(c.peer)}
              >
                <Presence show={store.roster.show(c.peer)} />
                <span class="row-main">
                  <span class="row-name" dir="auto">
                    {name}
                  </span>
                  <span class="row-sub" dir="auto">
                    {c.typing ? (
                      <em>typing…</em>
                    ) : last ? (
                      summary(last.body, last.attachments)
                    ) : c.unread > 0 ? (
                      `${c.unread} new message${c.unread > 1 ? 's' : ''}`
                    ) : (
                      c.peer
                    )}
                  </span>
                </span>
                {c.unread > 0 && (
                  <span class="badge" aria-hidden="true">
                    {c.unread}
                  </span>
                )}
              </button>
            </li>
          );
        })}
        {extra.map((u) => (
          <li key={u.jid}>
            <button
              type="button"
              class="row"
              data-peer={u.jid}
              aria-label={`Start a chat with ${u.username}`}
              onClick={() => open(u.jid)}
            >
              <span class="dot dot-new" aria-hidden="true">
                +
              </span>
              <span class="row-main">
                <span class="row-name" dir="auto">
                  {u.name ?? u.username}
                </span>
                <span class="row-sub">Start a chat</span>
              </span>
            </button>
          </li>
        ))}
        {list.length === 0 && extra.length === 0 && (
          <li class="hint">
            {filter
              ? 'Nobody found.'
              : kind === 'favorites'
                ? 'No favorites yet: star a contact.'
                : kind === 'blocked'
                  ? 'Nobody is blocked.'
                  : 'No conversations yet — search for someone.'}
          </li>
        )}
      </ul>
    </section>
  );
}

/** The agent console: duty per workgroup and who waits; offers ring as banners (see App). */
export function Queues({ store }: { store: ChatStore }) {
  useEffect(() => {
    void store.alerts.refreshQueues();
    const t = setInterval(() => void store.alerts.refreshQueues(), 5000);
    return () => clearInterval(t);
  }, []);
  return (
    <section id="panel-queues" role="tabpanel" aria-labelledby="tab-queues" class="list-panel">
      <ul class="list" aria-label="Workgroups">
        {store.alerts.workgroups.map((w) => (
          <li key={w.workgroup} class="queue">
            <div class="row-main">
              <span class="row-name" dir="auto">
                {w.name}
              </span>
              <span class="row-sub">
                {w.onDuty ? `On duty, ${w.currentChats} of ${w.maxChats} chats` : 'Off duty'} ·{' '}
                {w.users.length} waiting
              </span>
              {w.users.length > 0 && (
                <ol class="waiting">
                  {w.users.map((u) => (
                    <li key={u.jid} dir="auto">
                      {u.userID}: {u.question}
                    </li>
                  ))}
                </ol>
              )}
            </div>
            <button
              type="button"
              aria-pressed={w.onDuty}
              onClick={() => void store.alerts.setDuty(w.name, !w.onDuty)}
            >
              {w.onDuty ? 'Go off duty' : 'Go on duty'}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function RoomList({ store }: { store: ChatStore }) {
  const [name, setName] = useState('');
  const joined = [...store.rooms.values()];
  const others = store.publicRooms.filter((r) => !store.rooms.has(r.jid));
  return (
    <section id="panel-rooms" role="tabpanel" aria-labelledby="tab-rooms" class="list-panel">
      <form
        class="join"
        onSubmit={(e) => {
          e.preventDefault();
          const n = name.trim();
          if (n) {
            void store.joinRoom(n);
            setName('');
          }
        }}
      >
        <input
          type="text"
          value={name}
          placeholder="Room name"
          aria-label="Room to join or create"
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Join</button>
      </form>
      {store.invitations.length > 0 && (
        <ul class="requests" aria-label="Room invitations">
          {store.invitations.map((i) => (
            <li key={i.room}>
              <span dir="auto">{localpart(i.inviter)}</span> invites you to{' '}
              <b dir="auto">{localpart(i.room)}</b>
              <button type="button" onClick={() => void store.joinRoom(i.room)}>
                Join
              </button>
            </li>
          ))}
        </ul>
      )}
      <ul class="list" aria-label="Your rooms">
        {joined.map((r) => {
          const active = store.view?.kind === 'room' && store.view.id === r.jid;
          return (
            <li key={r.jid}>
              <button
                type="button"
                class={`row ${active ? 'active' : ''}`}
                aria-current={active ? 'true' : undefined}
                data-room={r.jid}
                onClick={() => store.open({ kind: 'room', id: r.jid })}
              >
                <span class="dot dot-room" aria-hidden="true">
                  #
                </span>
                <span class="row-main">
                  <span class="row-name" dir="auto">
                    {r.name}
                  </span>
                  <span class="row-sub" dir="auto">
                    {r.subject ?? `${r.occupants.size} in the room`}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
        {joined.length === 0 && <li class="hint">You are in no room yet.</li>}
      </ul>
      {others.length > 0 && (
        <>
          <h2 class="subhead">Public rooms</h2>
          <ul class="list" aria-label="Public rooms">
            {others.map((r) => (
              <li key={r.jid}>
                <button
                  type="button"
                  class="row"
                  aria-label={`Join ${r.name ?? r.room}`}
                  onClick={() => void store.joinRoom(r.jid)}
                >
                  <span class="dot dot-room" aria-hidden="true">
                    #
                  </span>
                  <span class="row-main">
                    <span class="row-name" dir="auto">
                      {r.name ?? r.room}
                    </span>
                    <span class="row-sub">Join</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
