import { render } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { bare, localpart, type DirectoryUser, type Credentials } from './api';
import { ChatStore, type Msg, type Thread, type View } from './store';
import { beep } from './sound';
import { storage } from './storage';
import { AskView } from './ask';
import './styles.css';

// ---- boot: credentials from the URL fragment (never sent to a server), kept for reloads in this tab ---------

interface Boot { creds: Credentials | null; open: string | null; ask: string | null; embedded: boolean; parentOrigin: string | null }

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
      const saved = JSON.parse(storage.get('parley.creds') ?? 'null') as { streamId: string; token: string } | null;
      if (saved) creds = { base, ...saved };
    } catch { /* none */ }
  }
  if (hash.get('ask')) storage.set('parley.ask', hash.get('ask')!);
  const ask = hash.get('ask') ?? (streamId ? null : storage.get('parley.ask'));
  const boot: Boot = { creds, open: hash.get('open'), ask: ask || null, embedded: hash.get('embed') === '1', parentOrigin: hash.get('origin') };
  // Keep the token out of the address bar, history and bookmarks.
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  return boot;
}

const B = boot();

function useStore(store: ChatStore): void {
  const [, setV] = useState(0);
  useEffect(() => store.listen(() => setV((v) => v + 1)), [store]);
}

const SHOW_LABEL: Record<string, string> = { available: 'online', chat: 'online', away: 'away', xa: 'away', dnd: 'busy', offline: 'offline' };
const time = (ts: string): string => { const d = new Date(ts); return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); };

// ---- app --------------------------------------------------------------------------------------------------

function App({ store }: { store: ChatStore }) {
  useStore(store);
  const [tab, setTab] = useState<'chats' | 'rooms' | 'queues'>('chats');
  const view = store.view;
  const statusText = store.ended ? `Signed out (${store.ended})` : store.status === 'online' ? 'Connected' : store.status === 'reconnecting' ? 'Reconnecting…' : 'Connecting…';
  return (
    <div class={`app ${view ? 'has-view' : ''}`}>
      {store.offers.length > 0 && <div class="calls offers">{store.offers.map((o) => (
        <div key={o.offerId} class="call" role="alertdialog" aria-label={`Offer from ${o.workgroupName}`}>
          <span class="call-text" dir="auto">{o.workgroupName}: {o.visitor} asks “{o.question}”</span>
          <button type="button" class="accept" onClick={() => void store.answerOffer(o, true)}>Accept</button>
          <button type="button" class="decline" onClick={() => void store.answerOffer(o, false)}>Reject</button>
        </div>
      ))}</div>}
      {store.calls.length > 0 && <div class="calls">{store.calls.map((c) => (
          <div key={c.callId} class="call" role="alertdialog" aria-label={`Incoming call from ${store.displayName(c.peer)}`}>
            <span class="call-text" dir="auto">{store.displayName(c.peer)} is calling{c.audioOnly ? ' (audio)' : ' (video)'}…</span>
            <button type="button" class="accept" onClick={() => void store.answerCall(c, true)}>Accept</button>
            <button type="button" class="decline" onClick={() => void store.answerCall(c, false)}>Decline</button>
          </div>
        ))}</div>}
      <aside class="sidebar" aria-label="Conversations">
        <header class="bar">
          <div class="me">
            <span class="me-name">{store.me.username || '…'}</span>
            <span class={`conn conn-${store.ended ? 'offline' : store.status}`} role="status" aria-live="polite">{statusText}</span>
          </div>
          <button type="button" class="icon" aria-pressed={store.muted} aria-label={store.muted ? 'Sound off (turn on)' : 'Sound on (mute)'}
            title={store.muted ? 'Unmute' : 'Mute'} onClick={() => store.setMuted(!store.muted)}><Bell muted={store.muted} /></button>
        </header>
        <div class="tabs" role="tablist" aria-label="Lists">
          <button type="button" role="tab" id="tab-chats" aria-selected={tab === 'chats'} aria-controls="panel-chats" onClick={() => setTab('chats')}>
            Chats {store.unreadTotal() > 0 && <span class="badge" aria-label={`${store.unreadTotal()} unread`}>{store.unreadTotal()}</span>}
          </button>
          <button type="button" role="tab" id="tab-rooms" aria-selected={tab === 'rooms'} aria-controls="panel-rooms" onClick={() => setTab('rooms')}>Rooms</button>
          {store.workgroups.length > 0 && <button type="button" role="tab" id="tab-queues" aria-selected={tab === 'queues'} aria-controls="panel-queues" onClick={() => setTab('queues')}>Queues</button>}
        </div>
        {tab === 'chats' ? <ChatList store={store} /> : tab === 'rooms' ? <RoomList store={store} /> : <Queues store={store} />}
      </aside>
      <main class="pane" aria-label="Dialogue">
        {store.error && <div class="error" role="alert">{store.error} <button type="button" class="link" onClick={() => { store.error = null; store.emit(); }}>Dismiss</button></div>}
        {view?.kind === 'chat' ? <Dialogue key={`c-${view.id}`} store={store} peer={view.id} />
          : view?.kind === 'room' ? <RoomView key={`r-${view.id}`} store={store} jid={view.id} />
            : <div class="empty"><p>Select a conversation.</p></div>}
      </main>
    </div>
  );
}

/** A bell icon (inline SVG: no icon font or emoji font needed), struck through when muted. */
function Bell({ muted }: { muted: boolean }) {
  return (
    <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
      <path d="M13.7 21a2 2 0 0 1-3.4 0" />
      {muted && <path d="M3 3l18 18" />}
    </svg>
  );
}

function Presence({ show }: { show: string }) {
  const label = SHOW_LABEL[show] ?? show;
  return <span class={`dot dot-${label}`} role="img" aria-label={label} title={label} />;
}

function ChatList({ store }: { store: ChatStore }) {
  const [filter, setFilter] = useState('');
  const [found, setFound] = useState<DirectoryUser[]>([]);
  useEffect(() => {
    const q = filter.trim();
    if (q.length < 2) { setFound([]); return; }
    const t = setTimeout(() => { store.api.searchUsers(q).then((r) => setFound(r.users), () => setFound([])); }, 250);
    return () => clearTimeout(t);
  }, [filter]);
  const [kind, setKind] = useState<'all' | 'favorites' | 'blocked'>('all');
  const list = store.dialogues(filter, kind);
  const known = new Set(list.map((c) => c.peer));
  const extra = kind === 'blocked' ? [] : found.filter((u) => !known.has(u.jid) && u.jid !== bare(store.me.jid) && !store.blocked.has(u.jid));
  const open = (peer: string) => store.open({ kind: 'chat', id: peer });
  return (
    <section id="panel-chats" role="tabpanel" aria-labelledby="tab-chats" class="list-panel">
      <input class="search" type="search" placeholder="Search or start a chat" aria-label="Search contacts and users"
        value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      <div class="filters" role="group" aria-label="Show">
        {(['all', 'favorites', 'blocked'] as const).map((k) => (
          <button key={k} type="button" aria-pressed={kind === k} onClick={() => setKind(k)}>{k === 'all' ? 'All' : k === 'favorites' ? 'Favorites' : 'Blocked'}</button>
        ))}
      </div>
      {store.pendingRequests().length > 0 && (
        <ul class="requests" aria-label="Contact requests">
          {store.pendingRequests().map((jid) => (
            <li key={jid}><span dir="auto">{localpart(jid)}</span> wants to add you
              <button type="button" onClick={() => void store.approve(jid)} aria-label={`Accept contact request from ${localpart(jid)}`}>Accept</button></li>
          ))}
        </ul>
      )}
      <ul class="list" aria-label="Dialogues">
        {list.map((c) => {
          const last = c.messages[c.messages.length - 1];
          const active = store.view?.kind === 'chat' && store.view.id === c.peer;
          const name = store.displayName(c.peer);
          return (
            <li key={c.peer}>
              <button type="button" class={`row ${active ? 'active' : ''}`} aria-current={active ? 'true' : undefined} data-peer={c.peer}
                aria-label={`${name}, ${SHOW_LABEL[store.show(c.peer)] ?? 'offline'}${c.unread ? `, ${c.unread} unread` : ''}`} onClick={() => open(c.peer)}>
                <Presence show={store.show(c.peer)} />
                <span class="row-main">
                  <span class="row-name" dir="auto">{name}</span>
                  <span class="row-sub" dir="auto">{c.typing ? <em>typing…</em> : last ? last.body : c.unread > 0 ? `${c.unread} new message${c.unread > 1 ? 's' : ''}` : c.peer}</span>
                </span>
                {c.unread > 0 && <span class="badge" aria-hidden="true">{c.unread}</span>}
              </button>
            </li>
          );
        })}
        {extra.map((u) => (
          <li key={u.jid}>
            <button type="button" class="row" data-peer={u.jid} aria-label={`Start a chat with ${u.username}`} onClick={() => open(u.jid)}>
              <span class="dot dot-new" aria-hidden="true">+</span>
              <span class="row-main"><span class="row-name" dir="auto">{u.name ?? u.username}</span><span class="row-sub">Start a chat</span></span>
            </button>
          </li>
        ))}
        {list.length === 0 && extra.length === 0 && <li class="hint">{filter ? 'Nobody found.' : kind === 'favorites' ? 'No favorites yet: star a contact.' : kind === 'blocked' ? 'Nobody is blocked.' : 'No conversations yet — search for someone.'}</li>}
      </ul>
    </section>
  );
}

/** The agent console: duty per workgroup and who waits; offers ring as banners (see App). */
function Queues({ store }: { store: ChatStore }) {
  useEffect(() => {
    void store.refreshQueues();
    const t = setInterval(() => void store.refreshQueues(), 5000);
    return () => clearInterval(t);
  }, []);
  return (
    <section id="panel-queues" role="tabpanel" aria-labelledby="tab-queues" class="list-panel">
      <ul class="list" aria-label="Workgroups">
        {store.workgroups.map((w) => (
          <li key={w.workgroup} class="queue">
            <div class="row-main">
              <span class="row-name" dir="auto">{w.name}</span>
              <span class="row-sub">{w.onDuty ? `On duty, ${w.currentChats} of ${w.maxChats} chats` : 'Off duty'} · {w.users.length} waiting</span>
              {w.users.length > 0 && <ol class="waiting">{w.users.map((u) => <li key={u.jid} dir="auto">{u.userID}: {u.question}</li>)}</ol>}
            </div>
            <button type="button" aria-pressed={w.onDuty} onClick={() => void store.setDuty(w.name, !w.onDuty)}>{w.onDuty ? 'Go off duty' : 'Go on duty'}</button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RoomList({ store }: { store: ChatStore }) {
  const [name, setName] = useState('');
  const joined = [...store.rooms.values()];
  const others = store.publicRooms.filter((r) => !store.rooms.has(r.jid));
  return (
    <section id="panel-rooms" role="tabpanel" aria-labelledby="tab-rooms" class="list-panel">
      <form class="join" onSubmit={(e) => { e.preventDefault(); const n = name.trim(); if (n) { void store.joinRoom(n); setName(''); } }}>
        <input type="text" value={name} placeholder="Room name" aria-label="Room to join or create" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button type="submit">Join</button>
      </form>
      {store.invitations.length > 0 && (
        <ul class="requests" aria-label="Room invitations">
          {store.invitations.map((i) => (
            <li key={i.room}><span dir="auto">{localpart(i.inviter)}</span> invites you to <b dir="auto">{localpart(i.room)}</b>
              <button type="button" onClick={() => void store.joinRoom(i.room)}>Join</button></li>
          ))}
        </ul>
      )}
      <ul class="list" aria-label="Your rooms">
        {joined.map((r) => {
          const active = store.view?.kind === 'room' && store.view.id === r.jid;
          return (
            <li key={r.jid}>
              <button type="button" class={`row ${active ? 'active' : ''}`} aria-current={active ? 'true' : undefined} data-room={r.jid} onClick={() => store.open({ kind: 'room', id: r.jid })}>
                <span class="dot dot-room" aria-hidden="true">#</span>
                <span class="row-main"><span class="row-name" dir="auto">{r.name}</span><span class="row-sub" dir="auto">{r.subject ?? `${r.occupants.size} in the room`}</span></span>
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
                <button type="button" class="row" aria-label={`Join ${r.name ?? r.room}`} onClick={() => void store.joinRoom(r.jid)}>
                  <span class="dot dot-room" aria-hidden="true">#</span>
                  <span class="row-main"><span class="row-name" dir="auto">{r.name ?? r.room}</span><span class="row-sub">Join</span></span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

const TICKS: Record<string, { text: string; label: string }> = {
  sending: { text: '…', label: 'sending' },
  sent: { text: '✓', label: 'sent' },
  delivered: { text: '✓✓', label: 'delivered' },
  displayed: { text: '✓✓', label: 'read' },
  failed: { text: '!', label: 'not sent' },
};

/** The message log: loads older pages when scrolled to the top, keeps the reading position, follows new ones. */
function MessageLog({ thread, onOlder, label, room }: { thread: Thread; onOlder: () => void; label: string; room?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const prev = useRef({ height: 0, first: '', count: 0 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = thread.messages[0]?.key ?? '';
    const p = prev.current;
    if (p.count === 0) el.scrollTop = el.scrollHeight;
    else if (first !== p.first) el.scrollTop += el.scrollHeight - p.height; // older page prepended: stay put
    else if (thread.messages.length !== p.count && thread.messages[thread.messages.length - 1]?.status === 'sending') el.scrollTop = el.scrollHeight; // own message
    else if (thread.messages.length !== p.count && el.scrollHeight - el.scrollTop - el.clientHeight < 160 + (el.scrollHeight - p.height)) el.scrollTop = el.scrollHeight;
    prev.current = { height: el.scrollHeight, first, count: thread.messages.length };
    // A short first page leaves nothing to scroll: fetch more until the log fills.
    if (thread.loaded && thread.hasMore && !thread.loading && el.scrollHeight <= el.clientHeight) onOlder();
  });
  return (
    <div class="log" ref={ref} role="log" aria-label={label} aria-live="polite" tabIndex={0}
      onScroll={(e) => { const el = e.currentTarget; if (el.scrollTop < 60 && thread.hasMore && !thread.loading) onOlder(); }}>
      {thread.loading && <div class="hint" role="status">Loading…</div>}
      {thread.loaded && !thread.hasMore && thread.messages.length > 0 && <div class="hint">Beginning of the conversation</div>}
      {thread.loaded && thread.messages.length === 0 && <div class="hint">No messages yet. Say hello!</div>}
      {thread.messages.map((m: Msg) => (
        <div key={m.key} class={`msg msg-${m.dir}`} data-id={m.id} data-status={m.status}>
          {room && m.dir === 'in' && <div class="nick" dir="auto">{m.nick ?? ''}</div>}
          <div class="text" dir="auto">{m.body}</div>
          <div class="meta">
            <time dateTime={m.ts}>{time(m.ts)}</time>
            {m.dir === 'out' && !room && <span class={`tick tick-${m.status}`} role="img" aria-label={TICKS[m.status]?.label}>{TICKS[m.status]?.text}</span>}
          </div>
        </div>
      ))}
    </div>
  );
}

function Composer({ onSend, onTyping, label }: { onSend: (text: string) => void; onTyping?: (typing: boolean) => void; label: string }) {
  const [text, setText] = useState('');
  const typing = useRef<{ since: number; timer?: ReturnType<typeof setTimeout> }>({ since: 0 });
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => { input.current?.focus(); }, []);
  const stopTyping = () => { clearTimeout(typing.current.timer); if (typing.current.since) { typing.current.since = 0; onTyping?.(false); } };
  const send = () => { const t = text.trim(); if (!t) return; stopTyping(); setText(''); onSend(t); };
  return (
    <form class="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
      <textarea ref={input} rows={1} value={text} dir="auto" aria-label={label} placeholder="Write a message"
        onInput={(e) => {
          setText((e.target as HTMLTextAreaElement).value);
          if (!onTyping) return;
          const now = Date.now();
          if (now - typing.current.since > 4000) { typing.current.since = now; onTyping(true); }
          clearTimeout(typing.current.timer);
          typing.current.timer = setTimeout(stopTyping, 5000);
        }}
        onKeyDown={(e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); send(); } }} />
      <button type="submit" aria-label="Send">Send</button>
    </form>
  );
}

function Back({ store }: { store: ChatStore }) {
  return <button type="button" class="icon back" aria-label="Back to the list" onClick={() => store.open(null)}>←</button>;
}

function Dialogue({ store, peer }: { store: ChatStore; peer: string }) {
  const c = store.conv(peer);
  const name = store.displayName(peer);
  const show = store.show(peer);
  const inRoster = store.contacts.has(peer);
  return (
    <section class="dialogue" aria-label={`Chat with ${name}`}>
      <header class="bar">
        <Back store={store} />
        <Presence show={show} />
        <div class="title"><h1 dir="auto">{name}</h1><span class="sub" aria-live="polite">{c.typing ? `${name} is typing…` : SHOW_LABEL[show] ?? show}</span></div>
        {inRoster && (
          <button type="button" class="icon star" aria-pressed={store.isFavorite(peer)} aria-label={store.isFavorite(peer) ? 'Remove from favorites' : 'Add to favorites'}
            title="Favorite" onClick={() => void store.toggleFavorite(peer)}>{store.isFavorite(peer) ? '★' : '☆'}</button>
        )}
        {!inRoster && <button type="button" onClick={() => void store.addContact(peer)}>Add contact</button>}
        <button type="button" onClick={() => void store.setBlocked(peer, !store.blocked.has(peer))}>{store.blocked.has(peer) ? 'Unblock' : 'Block'}</button>
      </header>
      <MessageLog thread={c} label={`Messages with ${name}`} onOlder={() => void store.loadOlder(c, peer)} />
      <div class="typing" aria-hidden="true">{c.typing ? `${name} is typing…` : ''}</div>
      <Composer label={`Message to ${name}`} onSend={(t) => void store.send(peer, t)}
        onTyping={(on) => { void store.api.chatState(peer, on ? 'composing' : 'paused').catch(() => undefined); }} />
    </section>
  );
}

function RoomView({ store, jid }: { store: ChatStore; jid: string }) {
  const r = store.rooms.get(jid);
  if (!r) return <div class="empty"><p>You are not in this room.</p></div>;
  return (
    <section class="dialogue" aria-label={`Room ${r.name}`}>
      <header class="bar">
        <Back store={store} />
        <span class="dot dot-room" aria-hidden="true">#</span>
        <div class="title"><h1 dir="auto">{r.name}</h1><span class="sub" dir="auto">{r.subject ?? ''} {r.occupants.size} in the room: {[...r.occupants.keys()].join(', ')}</span></div>
        <button type="button" onClick={() => void store.leaveRoom(jid)}>Leave</button>
      </header>
      <MessageLog thread={r} room label={`Messages in ${r.name}`} onOlder={() => void store.loadOlder(r, jid)} />
      <Composer label={`Message to room ${r.name}`} onSend={(t) => void store.postToRoom(jid, t)} />
    </section>
  );
}

function SignedOut() {
  return (
    <main class="signed-out">
      <h1>Parley chat</h1>
      <p>This chat opens with a session handed over by the site that embeds it:</p>
      <pre>{`<script src="${location.origin}/chat/embed.js"></script>
<script>Parley.init({ url: '${location.origin}', streamId, token, open: true })</script>`}</pre>
      <p>The site's server logs the user in (<code>POST /restapi/v1/chat/{'{username}'}/login</code>) and passes the <code>streamId</code> and <code>token</code> of its answer to the page.</p>
    </main>
  );
}

// ---- start ------------------------------------------------------------------------------------------------

const root = document.getElementById('app')!;
if (B.ask) render(<AskView workgroup={B.ask} />, root);
else if (!B.creds) render(<SignedOut />, root);
else {
  const store = new ChatStore(B.creds);
  (window as unknown as { parleyStore: ChatStore }).parleyStore = store; // for tests and debugging
  const post = (msg: unknown) => { if (B.embedded && B.parentOrigin && window.parent !== window) window.parent.postMessage(msg, B.parentOrigin); };
  let lastTotal = -1;
  store.onUnread = (total) => {
    if (total === lastTotal) return;
    lastTotal = total;
    document.title = total > 0 ? `(${total}) Parley chat` : 'Parley chat';
    post({ type: 'parley:unread', total });
  };
  store.onIncoming = () => { if (!store.muted) beep(); };
  store.onEnded = (reason) => post({ type: 'parley:ended', reason });
  store.onCallAccepted = (call) => post({ type: 'parley:call', callId: call.callId, peer: call.peer, roomName: call.roomName, audioOnly: call.audioOnly });
  document.addEventListener('visibilitychange', () => store.setVisible(document.visibilityState !== 'hidden'));
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
  store.start().then(() => {
    if (B.open) openUser(B.open);
    post({ type: 'parley:ready', jid: store.me.jid });
  }, (err: Error) => {
    store.error = `could not start: ${err.message}`;
    store.ended = 'the session is no longer valid';
    store.emit();
  });
}
