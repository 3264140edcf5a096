/**
 * What the test rig and the demo need from either XMPP server (prosody.ts, ejabberd.ts): tests read
 * `rig.xmpp` and never care which one runs, unless a test is marked with test/rig/needs.ts.
 */
export type XmppServerKind = 'prosody' | 'ejabberd';

export const XMPP_SERVER_KINDS: readonly XmppServerKind[] = ['prosody', 'ejabberd'];

export interface RunningXmppServer {
  kind: XmppServerKind;
  domain: string;
  c2sPort: number;
  componentPort: number;
  httpPort: number;
  /** c2s address for clients, e.g. xmpp://127.0.0.1:PORT */
  service: string;
  adminJid: string;
  adminPassword: string;
  componentSecret: string;
  dir: string;
  /** the throw-away certificate c2s offers with STARTTLS (PEM), when it does */
  caFile?: string;
  /** Parley's login-token secret (XMPP_LOGIN_TOKEN_SECRET) the server checks tokens with, when started with one */
  loginTokenSecret?: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  register(username: string, password: string): Promise<void>;
  isRunning(): boolean;
}

/** PARLEY_TEST_SERVER (or the demo's --server): prosody unless it says ejabberd; anything else is a mistake. */
export function parseServerKind(value: string | undefined, source = 'PARLEY_TEST_SERVER'): XmppServerKind {
  const v = (value ?? '').trim().toLowerCase() || 'prosody';
  if (v === 'prosody' || v === 'ejabberd') return v;
  throw new Error(`${source}=${value}: expected prosody or ejabberd`);
}
