import { render } from 'preact';
import { useState } from 'preact/hooks';
import { bare, type Credentials } from './api';
import { ChatStore, threadKey, type View } from './store';
import { beep } from './sound';
import { storage } from './storage';
import { AskView } from './ask';
import { Banners } from './Banners';
import { Composer, fileDrop } from './Composer';
import { ChatList, Queues, RoomList } from './lists';
import { CallButtons } from './CallViews';
import { GroupPanel } from './GroupPanel';
import { MessageLog } from './MessageLog';
import { Presence, SHOW_LABEL, useStore } from './ui';
import { HostProfile } from './HostProfile';
import { hostLogin, profilesFor } from './hostSite';
import { ReportForm } from './Report';
import './styles.css';

// ---- boot: credentials from the URL fragment (never sent to a server), kept for reloads in this tab ---------

interface Boot {
  creds: Credentials | null;
  /** a token the embedding site signed (docs/host-site.md), traded for a session at start */
  hostToken: string | null;
  open: string | null;
  ask: string | null;
  embedded: boolean;
  parentOrigin: string | null;
}

function boot(): Boot {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
  const streamId = hash.get('streamId');
  const token = hash.get('token');
  const base = location.origin;
  let creds: Credentials | null = null;
  if (streamId && token) {
    creds = { base, streamId, token };
    storage.set('parley.creds', JSON.stringify({ streamId, token }));
  } else {
    try {
      const saved = JSON.parse(storage.get('parley.creds') ?? 'null') as {
        streamId: string;
        token: string;
      } | null;
      if (saved) creds = { base, ...saved };
    } catch {
      /* none */
    }
  }
  if (hash.get('ask')) storage.set('parley.ask', hash.get('ask')!);
  const ask = hash.get('ask') ?? (streamId ? null : storage.get('parley.ask'));
  const boot: Boot = {
    creds: hash.get('hostToken') ? null : creds,
    hostToken: hash.get('hostToken'),
    open: hash.get('open'),
    ask: ask || null,
    embedded: hash.get('embed') === '1',
    parentOrigin: hash.get('origin'),
  };
  // Keep the token out of the address bar, history and bookmarks.
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  return boot;
}

const B = boot();

// ---- app --------------------------------------------------------------------------------------------------

function App({ store }: { store: ChatStore }) {
  useStore(store);
  const [tab, setTab] = useState<'chats' | 'rooms' | 'queues' | 'people'>('chats');
  const view = store.view;
  const statusText = store.ended
    ? `Signed out (${store.ended})`
    : store.status === 'online'
      ? 'Connected'
      : store.status === 'reconnecting'
        ? 'Reconnecting…'
        : 'Connecting…';
  return (
    <div class={`app ${view ? 'has-view' : ''}`}>
      <Banners store={store} />
      <aside class="sidebar" aria-label="Conversations">
        <header class="bar">
          <div class="me">
            <span class="me-name">{store.me.username || '…'}</span>
            <span
              class={`conn conn-${store.ended ? 'offline' : store.status}`}
              role="status"
              aria-live="polite"
            >
              {statusText}
            </span>
          </div>
          <button
            type="button"
            class="icon"
            aria-pressed={store.muted}
            aria-label={store.muted ? 'Sound off (turn on)' : 'Sound on (mute)'}
            title={store.muted ? 'Unmute' : 'Mute'}
            onClick={() => store.setMuted(!store.muted)}
          >
            <Bell muted={store.muted} />
          </button>
        </header>
        <div class="tabs" role="tablist" aria-label="Lists">
          <button
            type="button"
            role="tab"
            id="tab-chats"
            aria-selected={tab === 'chats'}
            aria-controls="panel-chats"
            onClick={() => setTab('chats')}
          >
            Chats{' '}
            {store.unreadTotal() > 0 && (
              <span class="badge" aria-label={`${store.unreadTotal()} unread`}>
                {store.unreadTotal()}
              </span>
            )}
          </button>
          <button
            type="button"
            role="tab"
            id="tab-rooms"
            aria-selected={tab === 'rooms'}
            aria-controls="panel-rooms"
            onClick={() => setTab('rooms')}
          >
            Rooms
          </button>
          {store.groups.groups.size > 0 && (
            <button
              type="button"
              role="tab"
              id="tab-people"
              aria-selected={tab === 'people'}
              aria-controls="panel-people"
              onClick={() => setTab('people')}
            >
              People
            </button>
          )}
          {store.alerts.workgroups.length > 0 && (
            <button
              type="button"
              role="tab"
              id="tab-queues"
              aria-selected={tab === 'queues'}
              aria-controls="panel-queues"
              onClick={() => setTab('queues')}
            >
              Queues
            </button>
          )}
        </div>
        {tab === 'chats' ? (
          <ChatList store={store} />
        ) : tab === 'rooms' ? (
          <RoomList store={store} />
        ) : tab === 'people' ? (
          <GroupPanel store={store} />
        ) : (
          <Queues store={store} />
        )}
      </aside>
      <main class="pane" aria-label="Dialogue">
        {store.error && (
          <div class="error" role="alert">
            {store.error}{' '}
            <button
              type="button"
              class="link"
              onClick={() => {
                store.error = null;
                store.emit();
              }}
            >
              Dismiss
            </button>
          </div>
        )}
        {view?.kind === 'chat' ? (
          <Dialogue key={`c-${view.id}`} store={store} peer={view.id} />
        ) : view?.kind === 'room' ? (
          <RoomView key={`r-${view.id}`} store={store} jid={view.id} />
        ) : (
          <div class="empty">
            <p>Select a conversation.</p>
          </div>
        )}
      </main>
    </div>
  );
}

/** A bell icon (inline SVG: no icon font or emoji font needed), struck through when muted. */
function Bell({ muted }: { muted: boolean }) {
  return (
    <svg
      width="20"
      height="20"
      viewBox="0 0 24 24"
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
      <path d="M13.7 21a2 2 0 0 1-3.4 0" />
      {muted && <path d="M3 3l18 18" />}
    </svg>
  );
}

function Back({ store }: { store: ChatStore }) {
  return (
    <button type="button" class="icon back" aria-label="Back to the list" onClick={() => store.open(null)}>
      ←
    </button>
  );
}

function Dialogue({ store, peer }: { store: ChatStore; peer: string }) {
  const c = store.conv(peer);
  const { roster } = store;
  const name = roster.displayName(peer);
  const show = roster.show(peer);
  const inRoster = roster.contacts.has(peer);
  const thread = threadKey({ kind: 'chat', id: peer });
  // The complaint form: null when closed, else the ids of the reported messages ([] for the whole dialogue).
  const [reporting, setReporting] = useState<string[] | null>(null);
  const [reported, setReported] = useState(false);
  return (
    <section class="dialogue" aria-label={`Chat with ${name}`} {...fileDrop(store, thread)}>
      <header class="bar">
        <Back store={store} />
        <Presence show={show} />
        <div class="title">
          <h1 dir="auto">{name}</h1>
          <span class="sub" aria-live="polite">
            {c.typing ? `${name} is typing…` : (SHOW_LABEL[show] ?? show)}
          </span>
        </div>
        <CallButtons store={store} peer={peer} name={name} />
        {inRoster && (
          <button
            type="button"
            class="icon star"
            aria-pressed={roster.isFavorite(peer)}
            aria-label={roster.isFavorite(peer) ? 'Remove from favorites' : 'Add to favorites'}
            title="Favorite"
            onClick={() => void roster.toggleFavorite(peer)}
          >
            {roster.isFavorite(peer) ? '★' : '☆'}
          </button>
        )}
        {!inRoster && (
          <button type="button" onClick={() => void roster.addContact(peer)}>
            Add contact
          </button>
        )}
        <button type="button" onClick={() => void roster.setBlocked(peer, !roster.blocked.has(peer))}>
          {roster.blocked.has(peer) ? 'Unblock' : 'Block'}
        </button>
        <button type="button" onClick={() => setReporting([])}>
          Report
        </button>
      </header>
      <HostProfile profiles={profilesFor(store.api)} peer={peer} />
      {reporting && (
        <ReportForm
          api={store.api}
          peer={peer}
          name={name}
          messageIds={reporting}
          onClose={(sent) => {
            setReporting(null);
            setReported(sent);
          }}
        />
      )}
      {reported && !reporting && (
        <div class="report-sent" role="status">
          Report sent. Thank you.
        </div>
      )}
      <MessageLog
        thread={c}
        files={store.files}
        label={`Messages with ${name}`}
        onOlder={() => void store.loadOlder(c, peer)}
        onReport={(m) => m.id && setReporting([m.id])}
      />
      <div class="typing" aria-hidden="true">
        {c.typing ? `${name} is typing…` : ''}
      </div>
      <Composer
        store={store}
        thread={thread}
        label={`Message to ${name}`}
        onSend={(t) => void store.send(peer, t)}
        onTyping={(on) => {
          void store.api.chatState(peer, on ? 'composing' : 'paused').catch(() => undefined);
        }}
      />
    </section>
  );
}

function RoomView({ store, jid }: { store: ChatStore; jid: string }) {
  const r = store.rooms.get(jid);
  if (!r)
    return (
      <div class="empty">
        <p>You are not in this room.</p>
      </div>
    );
  const thread = threadKey({ kind: 'room', id: jid });
  return (
    <section class="dialogue" aria-label={`Room ${r.name}`} {...fileDrop(store, thread)}>
      <header class="bar">
        <Back store={store} />
        <span class="dot dot-room" aria-hidden="true">
          #
        </span>
        <div class="title">
          <h1 dir="auto">{r.name}</h1>
          <span class="sub" dir="auto">
            {r.subject ?? ''} {r.occupants.size} in the room: {[...r.occupants.keys()].join(', ')}
          </span>
        </div>
        <button type="button" onClick={() => void store.leaveRoom(jid)}>
          Leave
        </button>
      </header>
      <MessageLog
        thread={r}
        room
        files={store.files}
        label={`Messages in ${r.name}`}
        onOlder={() => void store.loadOlder(r, jid)}
      />
      <Composer
        store={store}
        thread={thread}
        label={`Message to room ${r.name}`}
        onSend={(t) => void store.postToRoom(jid, t)}
      />
    </section>
  );
}

function SignedOut({ problem }: { problem?: string }) {
  return (
    <main class="signed-out">
      <h1>Parley chat</h1>
      {problem && <p role="alert">{problem}</p>}
      <p>This chat opens with a session handed over by the site that embeds it:</p>
      <pre>{`<script src="${location.origin}/chat/embed.js"></script>
<script>Parley.init({ url: '${location.origin}', streamId, token, open: true })</script>`}</pre>
      <p>
        The site's server logs the user in (<code>POST /restapi/v1/chat/{'{username}'}/login</code>) and
        passes the <code>streamId</code> and <code>token</code> of its answer to the page.
      </p>
    </main>
  );
}

// ---- start ------------------------------------------------------------------------------------------------

const root = document.getElementById('app')!;
if (B.ask) render(<AskView workgroup={B.ask} />, root);
else if (B.hostToken)
  hostLogin(location.origin, B.hostToken).then(
    (creds) => {
      storage.set('parley.creds', JSON.stringify({ streamId: creds.streamId, token: creds.token }));
      run(creds);
    },
    (err: Error) => render(<SignedOut problem={`The site's sign-in was refused: ${err.message}`} />, root),
  );
else if (!B.creds) render(<SignedOut />, root);
else run(B.creds);

function run(creds: Credentials): void {
  const store = new ChatStore(creds);
  (window as unknown as { parleyStore: ChatStore }).parleyStore = store; // for tests and debugging
  const post = (msg: unknown) => {
    if (B.embedded && B.parentOrigin && window.parent !== window)
      window.parent.postMessage(msg, B.parentOrigin);
  };
  let lastUnread = '';
  store.onUnread = (total) => {
    // Per user too, for the embed API's countNewMessages(userId).
    const byUser: Record<string, number> = {};
    for (const [jid, c] of store.conversations) if (c.unread > 0) byUser[jid] = c.unread;
    const key = JSON.stringify([total, byUser]);
    if (key === lastUnread) return;
    lastUnread = key;
    document.title = total > 0 ? `(${total}) Parley chat` : 'Parley chat';
    post({ type: 'parley:unread', total, byUser });
  };
  store.onIncoming = () => {
    if (!store.muted) beep();
  };
  store.onEnded = (reason) => post({ type: 'parley:ended', reason });
  store.onCallAccepted = (call) =>
    post({
      type: 'parley:call',
      callId: call.callId,
      peer: call.peer,
      roomName: call.roomName,
      audioOnly: call.audioOnly,
    });
  document.addEventListener('visibilitychange', () =>
    store.setVisible(document.visibilityState !== 'hidden'),
  );
  // The browser knows when the network is gone: drop the stream at once and resume (Last-Event-ID) when it is back.
  window.addEventListener('offline', () => store.networkChanged(false));
  window.addEventListener('online', () => store.networkChanged(true));
  window.addEventListener('message', (e) => {
    if (!B.parentOrigin || e.origin !== B.parentOrigin) return;
    const d = e.data as { type?: string; user?: string };
    if (d?.type === 'parley:open' && typeof d.user === 'string') openUser(d.user);
  });
  const openUser = (user: string) => {
    const jid = user.includes('@') ? bare(user) : `${user}@${bare(store.me.jid).split('@')[1] ?? ''}`;
    store.open({ kind: 'chat', id: jid } satisfies View);
  };
  render(<App store={store} />, root);
  store.start().then(
    () => {
      if (B.open) openUser(B.open);
      post({ type: 'parley:ready', jid: store.me.jid });
    },
    (err: Error) => {
      store.error = `could not start: ${err.message}`;
      store.ended = 'the session is no longer valid';
      store.emit();
    },
  );
}
