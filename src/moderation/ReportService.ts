import xml from '@xmpp/xml';
import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { Queryable } from '../store/db.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { advertisesReporting, blockWithReport, type ReportReason } from './reportStanzas.js';
import type { Report, ReportedMessage, ReportStore } from './ReportStore.js';

export interface ReportInput {
  jid: string;
  messageIds: string[];
  reason: ReportReason;
  text?: string;
  block: boolean;
}

/** New complaints reach the live admin monitor through the table (MessageMonitor polls it), on every instance. */
export interface ReportServiceDeps {
  db: Queryable;
  store: ReportStore;
  log: Log;
}

/**
 * A user's complaint about another user and (optionally) some of their messages: the messages are
 * looked up in the reporter's own history (ids as the reporter's events carry them), copied into the
 * report, and — when asked to block — the block goes to the server with the XEP-0377 report in it.
 * The report is stored even when the server refuses the block: the admin still needs to see it.
 */
export class ReportService {
  constructor(private readonly deps: ReportServiceDeps) {}

  async report(session: UserSession, input: ReportInput): Promise<Report> {
    if (input.jid === session.bareJid) throw new BridgeError('BAD_REQUEST', 'you cannot report yourself');
    const messages = await this.#messages(session.username, input.jid, input.messageIds);
    let blocked = false;
    let serverReported = false;
    if (input.block) {
      serverReported = await this.#serverSupportsReporting(session);
      const stanzas = messages.flatMap((m) =>
        m.archiveId ? [{ archiveId: m.archiveId, by: session.bareJid }] : [],
      );
      try {
        await session.iq(
          blockWithReport(input.jid, input.reason, input.text, stanzas),
          10_000,
          'block with report',
        );
        blocked = true;
      } catch (err) {
        // The complaint matters more than the block: store it, and let `blocked: false` tell the client.
        this.deps.log.warn(
          { err, reporter: session.bareJid },
          'block with report refused; storing the report anyway',
        );
        serverReported = false;
      }
    }
    const report = await this.deps.store.insert({
      reporter: session.bareJid,
      reported: input.jid,
      reason: input.reason,
      text: input.text,
      messages,
      blocked,
      serverReported,
    });
    return report;
  }

  /** The reporter's stored messages with these event ids; each must be from or to the reported JID. */
  async #messages(owner: string, jid: string, ids: string[]): Promise<ReportedMessage[]> {
    if (!ids.length) return [];
    const { rows } = await this.deps.db.query<{
      event_id: string;
      kind: string;
      from_jid: string;
      to_jid: string;
      peer: string;
      body: string | null;
      data: unknown;
      message_id: string | null;
      stanza_id: string | null;
      sent_at: Date;
    }>(
      `SELECT event_id, kind, from_jid, to_jid, peer, body, data, message_id, stanza_id, sent_at FROM messages
         WHERE owner = $1 AND event_id = ANY($2::bigint[]) ORDER BY event_id`,
      [owner, ids],
    );
    const found = new Set(rows.map((r) => String(r.event_id)));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length)
      throw new BridgeError('NOT_FOUND', `no message ${missing.join(', ')} in your history`);
    const unrelated = rows.filter((r) => r.kind !== 'groupchat' && r.peer !== jid);
    if (unrelated.length)
      throw new BridgeError(
        'BAD_REQUEST',
        `message ${unrelated.map((r) => r.event_id).join(', ')} is not from or to ${jid}`,
      );
    return rows.map((r) => ({
      id: String(r.event_id),
      type: r.kind,
      from: r.from_jid,
      to: r.to_jid,
      body: r.body,
      data: r.data ?? null,
      stanzaId: r.message_id,
      archiveId: r.stanza_id,
      timestamp: r.sent_at.toISOString(),
    }));
  }

  async #serverSupportsReporting(session: UserSession): Promise<boolean> {
    try {
      const info = await session.iq(
        xml('iq', { type: 'get', to: session.bareJid.split('@')[1] }, xml('query', { xmlns: NS.discoInfo })),
        5000,
        'disco#info',
      );
      return advertisesReporting(info.getChild('query', NS.discoInfo));
    } catch (err) {
      this.deps.log.debug({ err }, 'disco#info failed; assuming no XEP-0377');
      return false;
    }
  }
}
