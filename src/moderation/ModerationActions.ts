import xml from '@xmpp/xml';
import { BridgeError } from '../errors/BridgeError.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import type { ClusterPeers } from '../cluster/Cluster.js';
import { NS } from '../xmpp/ns.js';
import type { AccountBlocks, BlockKind } from './AccountBlocks.js';
import type { AdminMessageLog } from '../messages/MessageLog.js';
import type { AdminMessage } from '../messages/types.js';
import { AuditLog, type AuditEntry } from './AuditLog.js';

export interface ModerationActionsDeps {
  messages: Pick<AdminMessageLog, 'deleteMessage'>;
  blocks: AccountBlocks;
  audit: AuditLog;
  sessions: Pick<SessionManager, 'byUser' | 'logoff'>;
  /** the other gateway instances: a disabled user's session may live on any of them */
  peers?: ClusterPeers;
  /** a user's blocks changed: the in-memory ACL (AccountPolicy) here forgets them at once */
  blocksChanged?: (username: string) => void;
}

/**
 * What admins do to users and history. Each action is recorded in the audit log after it took effect
 * (for deletion, in the same transaction). Kicking and disabling end the user's session on whichever
 * instance holds it (the others through the cluster bus), and a disabled account is refused at login and
 * at session start on every instance.
 */
export class ModerationActions {
  constructor(private readonly deps: ModerationActionsDeps) {}

  get audit(): AuditLog {
    return this.deps.audit;
  }

  /**
   * Removes every stored copy of a message (all owners) and blanks its events' body and data, so an
   * event-stream replay does not bring it back. Complaints keep their own copy of reported messages.
   * The audit record names sender, recipient and time, not the text (deleting it is the point).
   */
  async deleteMessage(actor: string, id: string): Promise<{ deleted: number; audit: AuditEntry }> {
    const done = await this.deps.messages.deleteMessage(id, async ({ message, copies }, tx) => ({
      deleted: copies,
      audit: await new AuditLog(tx).record(actor, 'message.delete', id, summary(message, copies)),
    }));
    if (!done) throw new BridgeError('NOT_FOUND', `no message ${id}`);
    return done;
  }

  /** Ends the user's session on this instance (404 when it holds none), as DELETE /admin/sessions/{id} does. */
  async kick(actor: string, username: string): Promise<AuditEntry> {
    const session = this.deps.sessions.byUser(username);
    if (session) {
      await this.deps.sessions.logoff(session.streamId, 'kicked');
      return this.deps.audit.record(actor, 'user.kick', username, { streamId: session.streamId });
    }
    if (!(await this.deps.peers?.hasSessionElsewhere(username)))
      throw new BridgeError('STREAM_NOT_FOUND', `${username} has no live session`);
    this.deps.peers!.logoffElsewhere(username, 'kicked');
    return this.deps.audit.record(actor, 'user.kick', username, { elsewhere: true });
  }

  /** Sets a Parley-side block; disabling also ends the user's live session, wherever it is. Idempotent. */
  async block(actor: string, username: string, kind: BlockKind, reason?: string): Promise<AuditEntry> {
    const added = await this.deps.blocks.add(username, kind, actor, reason);
    this.#changed(username);
    if (kind === 'disabled') this.deps.peers?.logoffElsewhere(username, 'disabled');
    const session = kind === 'disabled' ? this.deps.sessions.byUser(username) : undefined;
    if (session) await this.deps.sessions.logoff(session.streamId, 'disabled').catch(() => undefined);
    return this.deps.audit.record(actor, kind === 'disabled' ? 'user.disable' : 'user.mute', username, {
      reason: reason ?? null,
      added,
      kicked: !!session,
    });
  }

  async unblock(actor: string, username: string, kind: BlockKind): Promise<AuditEntry> {
    if (!(await this.deps.blocks.remove(username, kind)))
      throw new BridgeError('NOT_FOUND', `${username} is not ${kind}`);
    this.#changed(username);
    return this.deps.audit.record(actor, kind === 'disabled' ? 'user.enable' : 'user.unmute', username);
  }

  /** After the change is committed, so whoever reloads (here or on a peer) reads it. */
  #changed(username: string): void {
    this.deps.blocksChanged?.(username);
    this.deps.peers?.blocksChangedElsewhere(username);
  }

  /**
   * XEP-0191 on the user's behalf: their server drops everything `jid` sends them. Needs the user's
   * live session on this instance (Parley holds no other credentials for ordinary accounts).
   */
  async blockFor(actor: string, username: string, jid: string): Promise<AuditEntry> {
    const session = this.deps.sessions.byUser(username);
    if (!session)
      throw new BridgeError(
        'STREAM_NOT_FOUND',
        `${username} has no live session on this instance to block through`,
      );
    await session.iq(
      xml('iq', { type: 'set' }, xml('block', { xmlns: NS.blocking }, xml('item', { jid }))),
      10_000,
      'block',
    );
    return this.deps.audit.record(actor, 'user.block-jid', username, { jid });
  }
}

function summary(m: AdminMessage, copies: number): Record<string, unknown> {
  return { type: m.type, from: m.from, to: m.to, room: m.room, timestamp: m.timestamp, copies };
}
