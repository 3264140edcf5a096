import type { Element } from '@xmpp/xml';
import { unwrap } from '../chat/index.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { CALLEE_GRACE_MS, type CallEngine, type Send } from './CallEngine.js';
import { sideOf } from './callState.js';
import { buildJmi, parseBounce, parseJmi, type JmiMessage } from './jmi.js';
import { bareJid } from '../xmpp/jid.js';

interface Parties {
  from: string;
  to: string;
  actor: 'self' | 'peer';
  peer: string;
  carbon: boolean;
  sentAt?: Date;
}

/**
 * JMI messages a user's session receives: from the other party, and — as carbons (XEP-0280) — from the
 * user's other clients, which is how an answer given on a phone stops the ringing in every Parley tab.
 * Archived copies (MAM catch-up) are history, not calls: they are taken and dropped.
 * Reference: https://xmpp.org/extensions/xep-0353.html
 */
export class CallInbound {
  constructor(private readonly deps: { engine: CallEngine; ringMs: number; now?: () => number }) {}

  /** Stanza handler: true when the message was call signalling (consumed). */
  async onMessage(session: UserSession, stanza: Element): Promise<boolean> {
    if (stanza.getChild('result', NS.mam)) {
      const archived = stanza
        .getChild('result', NS.mam)
        ?.getChild('forwarded', NS.forward)
        ?.getChild('message');
      return archived !== undefined && parseJmi(archived) !== undefined;
    }
    if (stanza.attrs.type === 'error') return this.#bounce(session, stanza);
    const u = unwrap(stanza, session.bareJid);
    const m = u && parseJmi(u.msg);
    if (!u || !m) return false;
    const from = String(u.msg.attrs.from ?? session.bareJid);
    const to = String(u.msg.attrs.to ?? session.bareJid);
    const actor = bareJid(from) === session.bareJid ? 'self' : 'peer';
    const peer = actor === 'self' ? bareJid(to) : bareJid(from);
    // Between the user's own devices (pre-0.4 drafts' <accept/> to the own bare JID): nothing to record.
    if (peer === session.bareJid) return true;
    const p: Parties = { from, to, actor, peer, carbon: u.carbon, sentAt: u.sentAt };
    if (m.action === 'propose') await this.#propose(session, m, p);
    else await this.#answer(session, m, p);
    return true;
  }

  /**
   * A proposal to the user (or, as a carbon, by one of the user's other clients). One that waited in
   * offline storage longer than the ring window is recorded as missed at once.
   */
  async #propose(session: UserSession, m: JmiMessage, p: Parties): Promise<void> {
    const now = this.deps.now?.() ?? Date.now();
    const age = p.sentAt ? Math.max(0, now - p.sentAt.getTime()) : 0;
    const stale = age >= this.deps.ringMs;
    const out = p.actor === 'self';
    await this.deps.engine.open(
      {
        owner: session.username,
        callId: m.callId,
        direction: out ? 'out' : 'in',
        caller: p.from,
        callee: out ? p.peer : session.bareJid,
        peer: p.peer,
        options: m.options!,
        ...(stale ? { state: 'ended' as const, outcome: 'missed' as const } : {}),
        ...(p.sentAt ? { createdAt: p.sentAt } : {}),
      },
      { by: p.from, carbon: p.carbon },
      { ringMs: this.deps.ringMs + CALLEE_GRACE_MS - age, initiator: false },
    );
  }

  async #answer(session: UserSession, m: JmiMessage, p: Parties): Promise<void> {
    // Both parties send <finish/>: answer the other party's with ours, so every device of theirs sees it too.
    const finishBack: Send | undefined =
      m.action === 'finish' && p.actor === 'peer'
        ? (prev) =>
            prev.state === 'accepted'
              ? session.send(
                  buildJmi(prev.peer, {
                    action: 'finish',
                    callId: m.callId,
                    reason: { condition: 'success' },
                  }),
                )
              : Promise.resolve()
        : undefined;
    await this.deps.engine.advance(
      session.username,
      m.callId,
      // Only the call's other party (or the user's own clients) may move it: a third party's forged id is ignored.
      (call) =>
        call.peer === p.peer
          ? {
              action: m.action as Exclude<JmiMessage['action'], 'propose'>,
              side: sideOf(call.direction, p.actor),
              reason: m.reason,
            }
          : undefined,
      { cause: { by: p.from, carbon: p.carbon }, answeredBy: p.from, send: finishBack },
    );
  }

  /** Our proposal bounced (no such user, or the server refused it): the call failed. Its message id is the call id. */
  async #bounce(session: UserSession, stanza: Element): Promise<boolean> {
    const b = parseBounce(stanza);
    if (!b) return false;
    const peer = bareJid(String(stanza.attrs.from ?? ''));
    const res = await this.deps.engine.advance(session.username, b.messageId, (call) =>
      call.peer === peer && call.direction === 'out'
        ? { action: 'error', side: 'callee', reason: { condition: 'general-error', text: b.condition } }
        : undefined,
    );
    return res !== undefined && res.step.kind === 'change';
  }
}
