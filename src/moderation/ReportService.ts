import xml from '@xmpp/xml';
import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { AdminMessageLog } from '../messages/MessageLog.js';
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
  messages: Pick<AdminMessageLog, 'ownedByEventIds'>;
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
    const rows = await this.deps.messages.ownedByEventIds(owner, ids);
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length)
      throw new BridgeError('NOT_FOUND', `no message ${missing.join(', ')} in your history`);
    const unrelated = rows.filter((r) => r.type !== 'groupchat' && r.peer !== jid);
    if (unrelated.length)
      throw new BridgeError(
        'BAD_REQUEST',
        `message ${unrelated.map((r) => r.id).join(', ')} is not from or to ${jid}`,
      );
    return rows.map(({ peer: _peer, ...m }) => m);
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
