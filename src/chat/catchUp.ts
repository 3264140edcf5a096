import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import type { Log } from '../log.js';
import type { BridgeError } from '../errors/BridgeError.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import type { ChatReader } from '../messages/MessageLog.js';

/**
 * Fills the gap since the user's last session from their server archive (XEP-0313), so messages
 * sent while they had no session are not lost. The results arrive as ordinary stanzas and go through
 * the chat handler (which stores each message once); this only pages through the archive.
 *   https://xmpp.org/extensions/xep-0313.html
 */
export interface CatchUpOptions {
  firstLoginDays: number;
  pageSize: number;
  maxPages: number;
}

const NO_ARCHIVE = new Set(['service-unavailable', 'feature-not-implemented']);

export async function catchUp(
  session: UserSession,
  deps: { messages: Pick<ChatReader, 'archiveCursor'>; drain: (s: UserSession) => Promise<void>; log: Log },
  opts: CatchUpOptions,
): Promise<number> {
  const cursor = await deps.messages.archiveCursor(session.username);
  // From the last archived message Parley holds (a second of overlap is deduplicated), else a window.
  const start = cursor
    ? new Date(cursor.sentAt.getTime() - 1000)
    : new Date(Date.now() - opts.firstLoginDays * 86_400_000);
  let after: string | undefined;
  let total = 0;
  for (let page = 0; page < opts.maxPages; page++) {
    let fin: Element | undefined;
    try {
      fin = await queryPage(session, start, after, opts.pageSize);
    } catch (err) {
      // A server that keeps no archive (ejabberd without mod_mam) refuses every query, at every login:
      // nothing to catch up from, and nothing worth a warning each time.
      if (!NO_ARCHIVE.has((err as BridgeError).extra?.xmppCondition ?? '')) throw err;
      deps.log.debug(
        { user: session.username, condition: (err as BridgeError).extra.xmppCondition },
        'the XMPP server keeps no archive: no catch-up',
      );
      return total;
    }
    await deps.drain(session); // results arrived before <fin/>; let the handler store them first
    const count = Number(fin?.getChild('set', NS.rsm)?.getChildText('count') ?? 0);
    const last = fin?.getChild('set', NS.rsm)?.getChildText('last') ?? undefined;
    total = Math.max(total, count);
    if (!fin || fin.attrs.complete === 'true' || !last) return total;
    after = last;
  }
  deps.log.warn(
    { user: session.username, maxPages: opts.maxPages },
    'archive catch-up stopped at the page limit',
  );
  return total;
}

async function queryPage(
  session: UserSession,
  start: Date,
  after: string | undefined,
  max: number,
): Promise<Element | undefined> {
  const form = xml(
    'x',
    { xmlns: NS.dataForms, type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS.mam)),
    xml('field', { var: 'start' }, xml('value', {}, start.toISOString())),
  );
  const set = xml(
    'set',
    { xmlns: NS.rsm },
    xml('max', {}, String(max)),
    ...(after ? [xml('after', {}, after)] : []),
  );
  const res = await session.iq(
    xml('iq', { type: 'set' }, xml('query', { xmlns: NS.mam, queryid: randomUUID() }, form, set)),
    30_000,
    'archive query',
  );
  return res.getChild('fin', NS.mam);
}
