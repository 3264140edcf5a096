import type { XmppServerKind } from '../../tools/servers/xmppServer.js';
import { serverKind } from './serverKind.js';

/**
 * The one way a test may depend on the XMPP server: `needs(feature, why)('title', fn)` declares a test
 * that needs a server feature listed in LACKING below. On a server that lacks it the test is not run
 * and the mark is listed in the report at the end of the run (hooks.ts), on every run, so a gap stays
 * visible. The goal is an empty LACKING table: a difference in behaviour is fixed in Parley instead.
 * A test never skips itself at run time; a mark is a declared, reviewed fact about a server.
 */

/** feature → server → why that server cannot do it (checked against the server's documentation). */
export const LACKING: Record<string, Partial<Record<XmppServerKind, string>>> = {
  'muc-forwards-invite-extensions': {
    ejabberd:
      "mod_muc (23.01) builds the invitation it forwards anew from <invite/> and drops every other child, so the XEP-0142 <offer/> Parley adds for the agent's client does not arrive (Prosody and Openfire pass it on)",
  },
  'login-token-lifetime-and-single-use': {
    ejabberd:
      "its JWT authentication (23.01) checks a token's signature, its `exp` and its `jid` only: it has no cap on how long a token may live and does not remember tokens used, so one valid too long or replayed opens a session (Prosody's mod_auth_parley refuses both; test/integration/xmpp/ejabberdTokens.test.ts tests what ejabberd checks)",
  },
  'smacks-ack-request-batching': {
    ejabberd:
      "mod_stream_mgmt (23.01) sends an <r/> with the first stanza after each <a/> (send_rack: one request outstanding at a time) and has no setting like Prosody's smacks_max_unacked_stanzas, so how many requests a burst draws depends on how fast the client answers, not on a batch size",
  },
  'xep0363-stand-in-only': {
    ejabberd:
      "the rig's ejabberd runs its own mod_http_upload (upload.<domain>), which Parley's XEP-0363 discovery finds before the test's stand-in service",
  },
};

export interface NeedsMark {
  server: XmppServerKind;
  feature: string;
  lacking: string;
  test: string;
  why: string;
}

const KEY = Symbol.for('parley.test.needs');
type Holder = { [KEY]?: NeedsMark[] };

/** Marks declared in this run (the report's lines). */
export function needsMarks(): NeedsMark[] {
  return ((globalThis as Holder)[KEY] ??= []);
}

type TestFn = (title: string, fn: Mocha.AsyncFunc) => Mocha.Test;

export function needs(feature: string, why: string): TestFn {
  const known = LACKING[feature];
  if (!known) throw new Error(`needs('${feature}'): not a feature in test/rig/needs.ts LACKING`);
  const server = serverKind();
  const lacking = known[server];
  if (lacking === undefined) return (title, fn) => it(title, fn);
  return (title) => {
    needsMarks().push({ server, feature, lacking, test: title, why });
    return it.skip(title);
  };
}

/** The report printed at the end of a run: every test not run because the server lacks a feature. */
export function needsReport(server: XmppServerKind): string {
  const marks = needsMarks();
  if (marks.length === 0) return `server marks (${server}): none — every test ran`;
  const lines = marks.map(
    (m) => `  - [${m.feature}] ${m.test}\n      needs it: ${m.why}\n      ${m.server} lacks it: ${m.lacking}`,
  );
  return `server marks (${server}): ${marks.length} test(s) not run on ${server}\n${lines.join('\n')}`;
}
