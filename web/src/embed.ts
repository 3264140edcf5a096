/**
 * The embed snippet, served as /chat/embed.js (a classic script, no imports):
 *
 *   <script src="https://parley.example/chat/embed.js"></script>
 *   <script>Parley.init({ url: 'https://parley.example', streamId, token, open: true })</script>
 *
 * It puts the chat client (/chat/) in an iframe (a floating panel with a launcher button, or inside
 * `container`) and hands it the session through the URL fragment, which never reaches a server. The iframe
 * reports its unread count with postMessage; openDialog() asks it to open a dialogue.
 */
interface InitOptions {
  /** Parley's base URL (default: where embed.js came from) */
  url?: string;
  /** the session token from the site's server-side login (`token` of the login answer), or that whole answer */
  token?: string | { token: string; streamId: string };
  /**
   * instead of a session: a token the site's server signed for its user (docs/host-site.md); the chat
   * trades it for a session itself, so neither the master secret nor a password reaches the page
   */
  hostToken?: string;
  /** instead of a session: a visitor without an account asks this workgroup (expert queue) */
  ask?: string;
  /** the login answer's `streamId` (not needed when `token` is the whole answer) */
  streamId?: string;
  /** true: show the chat at once; a username: open that dialogue at once */
  open?: boolean | string;
  /** an element (or its id) to render into instead of the floating panel */
  container?: HTMLElement | string;
  /** called whenever the unread count changes */
  onUnread?: (total: number) => void;
  /** called when the user accepts a call in the chat: start the media (Parley only signals) */
  onCall?: (call: { callId: string; peer: string; roomName: string | null; audioOnly: boolean }) => void;
  /** called when the session is over (logged off, idled out, gateway restarted): log in again and call init anew */
  onSessionEnded?: (reason: string) => void;
}

interface ParleyApi {
  init(options: InitOptions): void;
  openDialog(user: string): void;
  unreadCount(): number;
  /** unread messages from one user (a username or a JID): Star.Comet's countNewMessages(user_id) */
  countNewMessages(user: string): number;
  show(): void;
  hide(): void;
}

(() => {
  const w = window as unknown as { Parley?: ParleyApi };
  if (w.Parley) return;
  const script = document.currentScript as HTMLScriptElement | null;
  const scriptBase = script?.src ? new URL(script.src).origin : location.origin;
  let frame: HTMLIFrameElement | undefined;
  let panel: HTMLElement | undefined;
  let launcher: HTMLButtonElement | undefined;
  let origin = '';
  let unread = 0;
  /** unread per bare JID, as the chat last reported it */
  let unreadBy: Record<string, number> = {};
  let ready = false;
  let onUnread: ((n: number) => void) | undefined;
  let onEnded: ((reason: string) => void) | undefined;
  let onCall: InitOptions['onCall'];
  const queue: unknown[] = [];

  const send = (msg: unknown): void => {
    if (ready && frame?.contentWindow) frame.contentWindow.postMessage(msg, origin);
    else queue.push(msg);
  };
  const setOpen = (open: boolean): void => {
    if (!panel || !launcher) return;
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
  };
  const paintBadge = (): void => {
    if (!launcher) return;
    launcher.textContent = unread > 0 ? `Chat (${unread})` : 'Chat';
    launcher.setAttribute('aria-label', unread > 0 ? `Chat, ${unread} unread` : 'Chat');
  };

  window.addEventListener('message', (e) => {
    if (e.origin !== origin || e.source !== frame?.contentWindow) return;
    const d = e.data as { type?: string; total?: number; reason?: string; byUser?: Record<string, number> };
    if (d?.type === 'parley:ended') onEnded?.(String(d.reason ?? 'ended'));
    if (d?.type === 'parley:call')
      onCall?.(d as unknown as Parameters<NonNullable<InitOptions['onCall']>>[0]);
    if (d?.type === 'parley:ready') {
      ready = true;
      for (const m of queue.splice(0)) send(m);
    }
    if (d?.type === 'parley:unread' && typeof d.total === 'number') {
      unread = d.total;
      unreadBy = d.byUser && typeof d.byUser === 'object' ? d.byUser : {};
      paintBadge();
      onUnread?.(unread);
    }
  });

  const api: ParleyApi = {
    init(o) {
      // Again after the session ended: replace the old client.
      frame?.remove();
      panel?.remove();
      launcher?.remove();
      frame = panel = launcher = undefined;
      ready = false;
      unread = 0;
      unreadBy = {};
      queue.length = 0;
      const base = (o.url ?? scriptBase).replace(/\/$/, '');
      origin = new URL(base).origin;
      const session =
        typeof o.token === 'string'
          ? { token: o.token, streamId: o.streamId ?? '' }
          : (o.token ?? { token: '', streamId: '' });
      if (!o.ask && !o.hostToken && (!session.token || !session.streamId))
        throw new Error('Parley.init: token and streamId (the login answer), hostToken or ask are required');
      onUnread = o.onUnread;
      onEnded = o.onSessionEnded;
      onCall = o.onCall;
      const hash = new URLSearchParams(
        o.ask
          ? { ask: o.ask, embed: '1', origin: location.origin }
          : o.hostToken
            ? { hostToken: o.hostToken, embed: '1', origin: location.origin }
            : { streamId: session.streamId, token: session.token, embed: '1', origin: location.origin },
      );
      if (typeof o.open === 'string') hash.set('open', o.open);
      frame = document.createElement('iframe');
      frame.src = `${base}/chat/#${hash}`;
      frame.title = 'Chat';
      frame.allow = 'autoplay';
      frame.style.cssText = 'border:0;width:100%;height:100%;display:block;background:#fff';
      const container = typeof o.container === 'string' ? document.getElementById(o.container) : o.container;
      if (container) {
        container.appendChild(frame);
      } else {
        panel = document.createElement('div');
        panel.style.cssText =
          'position:fixed;right:16px;bottom:72px;width:min(420px,calc(100vw - 32px));height:min(600px,calc(100vh - 96px));' +
          'box-shadow:0 8px 32px rgba(0,0,0,.25);border-radius:12px;overflow:hidden;z-index:2147483000;background:#fff';
        panel.appendChild(frame);
        launcher = document.createElement('button');
        launcher.type = 'button';
        launcher.style.cssText =
          'position:fixed;right:16px;bottom:16px;z-index:2147483001;padding:10px 18px;border-radius:24px;border:0;' +
          'background:#2563eb;color:#fff;font:600 15px system-ui,sans-serif;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)';
        launcher.addEventListener('click', () => setOpen(panel!.hidden));
        document.body.append(panel, launcher);
        paintBadge();
        setOpen(o.open !== undefined && o.open !== false);
      }
    },
    openDialog(user) {
      setOpen(true);
      send({ type: 'parley:open', user });
    },
    unreadCount() {
      return unread;
    },
    countNewMessages(user) {
      const who = String(user).toLowerCase();
      let n = 0;
      for (const [jid, count] of Object.entries(unreadBy))
        if (who.includes('@') ? jid === who.split('/')[0] : jid.split('@')[0] === who) n += count;
      return n;
    },
    show() {
      setOpen(true);
    },
    hide() {
      setOpen(false);
    },
  };
  w.Parley = api;
})();
export {};
