import { randomUUID } from 'node:crypto';
import { BridgeError } from '../errors/BridgeError.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { parseJid } from '../xmpp/jid.js';
import type { SendPolicy } from '../moderation/ports.js';
import type { CallEngine } from './CallEngine.js';
import { endAction, sideOf, type CallInput } from './callState.js';
import type { CallStore, HistoryQuery } from './CallStore.js';
import { buildJmi, declineReason } from './jmi.js';
import { callView, type CallView } from './payloads.js';
import type { Call, CallOptions, CallReason, JingleCondition, JmiAction } from './types.js';

export type CallCommand =
  | { kind: 'ringing' }
  | { kind: 'accept' }
  | { kind: 'decline'; declineReason?: string; condition?: JingleCondition }
  | { kind: 'end'; reason?: string };

export interface CallHistoryPage {
  calls: CallView[];
  page: { limit: number; hasMore: boolean; before: string | null; after: string | null };
}

/**
 * What the REST API does with calls, for one user's session: propose, ring, accept, decline, end.
 * Each sends its JMI message to the other party's bare JID and publishes the change to every stream
 * of the user, so all tabs see it (the server's carbons tell the user's other XMPP clients).
 */
export class CallService {
  constructor(
    private readonly deps: {
      engine: CallEngine;
      store: CallStore;
      domain: string;
      ringMs: number;
      policy: SendPolicy;
    },
  ) {}

  async start(session: UserSession, toRaw: string, options: CallOptions): Promise<CallView> {
    const to = parseJid(toRaw, this.deps.domain, 'callee JID').bare; // JMI proposals go to the bare JID: every device rings
    if (to === session.bareJid) throw new BridgeError('BAD_REQUEST', 'a user cannot call themself');
    await this.deps.policy.assertMaySend(session.username);
    if (!session.isOnline)
      throw new BridgeError('XMPP_UNAVAILABLE', 'the XMPP session is reconnecting; try again shortly', {
        retryAfter: 2,
      });
    const callId = randomUUID();
    const call = await this.deps.engine.open(
      {
        owner: session.username,
        callId,
        direction: 'out',
        caller: session.fullJid,
        callee: to,
        peer: to,
        options,
      },
      { by: session.fullJid },
      {
        ringMs: this.deps.ringMs,
        initiator: true,
        send: () => session.send(buildJmi(to, { action: 'propose', callId, options })),
      },
    );
    if (!call) throw new BridgeError('CONFLICT', 'a call with this id exists already'); // a UUID collision
    return callView(call);
  }

  async act(session: UserSession, callId: string, cmd: CallCommand): Promise<CallView> {
    const res = await this.deps.engine.advance(session.username, callId, (call) => inputFor(call, cmd), {
      cause: { by: session.fullJid },
      answeredBy: session.fullJid,
      send: (prev, input) =>
        session.send(buildJmi(prev.peer, { action: jmiAction(input), callId, reason: input.reason })),
    });
    if (!res) throw new BridgeError('NOT_FOUND', `no call ${callId.slice(0, 80)} of ${session.bareJid}`);
    const { call, step } = res;
    if (step.kind === 'invalid')
      throw new BridgeError(
        'CONFLICT',
        `cannot ${cmd.kind} call ${callId}: ${step.why} (state ${call.state})`,
      );
    if (cmd.kind === 'accept' && call.answeredBy && call.answeredBy !== session.fullJid) {
      throw new BridgeError('CONFLICT', `call ${callId} was answered on another device (${call.answeredBy})`);
    }
    return callView(call);
  }

  async history(q: HistoryQuery): Promise<CallHistoryPage> {
    const page = await this.deps.store.history(q);
    return {
      calls: page.calls.map(callView),
      page: { limit: q.limit, hasMore: page.hasMore, before: page.before, after: page.after },
    };
  }
}

/** A REST command as a state-machine input, from the user's own side of the call. */
export function inputFor(call: Call, cmd: CallCommand): CallInput {
  const side = sideOf(call.direction, 'self');
  switch (cmd.kind) {
    case 'ringing':
      return { action: 'ringing', side };
    case 'accept':
      return { action: 'proceed', side };
    case 'decline':
      return { action: 'reject', side, reason: declineReason(cmd.declineReason, cmd.condition) };
    case 'end': {
      const action = endAction(call.state, side);
      const reasons: Record<typeof action, CallReason> = {
        finish: { condition: 'success' },
        retract: { condition: 'cancel' },
        reject: declineReason(undefined),
      };
      const reason = reasons[action];
      return { action, side, reason: cmd.reason ? { ...reason, text: cmd.reason } : reason };
    }
  }
}

/** REST commands only ever produce JMI actions; the timer's and bounces' inputs never reach a send. */
function jmiAction(input: CallInput): JmiAction {
  if (input.action === 'timeout' || input.action === 'error') throw new Error(`${input.action} is not sent`);
  return input.action;
}
