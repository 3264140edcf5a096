/**
 * The vocabulary of call signalling, shared by the pure state machine, the stanza mappers, the store
 * and the routes. References: XEP-0353 (Jingle Message Initiation), XEP-0166 §7.4 (reason conditions).
 */

/** The JMI messages (XEP-0353 §3), as element names in urn:xmpp:jingle-message:0. */
export const JMI_ACTIONS = ['propose', 'ringing', 'proceed', 'reject', 'retract', 'finish'] as const;
export type JmiAction = (typeof JMI_ACTIONS)[number];

/** XEP-0166 §7.4 reason conditions. */
export const JINGLE_CONDITIONS = [
  'alternative-session',
  'busy',
  'cancel',
  'connectivity-error',
  'decline',
  'expired',
  'failed-application',
  'failed-transport',
  'general-error',
  'gone',
  'incompatible-parameters',
  'media-error',
  'security-error',
  'success',
  'timeout',
  'unsupported-applications',
  'unsupported-transports',
] as const;
export type JingleCondition = (typeof JINGLE_CONDITIONS)[number];

export interface CallReason {
  condition: JingleCondition;
  text?: string;
}

export type CallState = 'proposed' | 'ringing' | 'accepted' | 'ended';
export type CallOutcome = 'completed' | 'declined' | 'missed' | 'cancelled' | 'failed';
export type CallEventType = 'requested' | 'ringing' | 'accepted' | 'declined' | 'ended';
export type Media = 'audio' | 'video';

/** The care-messenger seed's CallOptions (bbb-and-seeds.md §5), minus the parties (they are JIDs here). */
export interface CallOptions {
  audioOnly: boolean;
  /** the external room the call takes place in (the seed's Twilio room) */
  roomName?: string;
  roomSid?: string;
  /** the callee's client may accept by itself, after `acceptAfter` seconds of countdown */
  autoAccept: boolean;
  acceptAfter?: number;
}

/** One call as one Parley user (the owner) sees it. */
export interface Call {
  owner: string;
  callId: string;
  /** out: the owner is the caller */
  direction: 'in' | 'out';
  caller: string;
  callee: string;
  /** bare JID of the other party */
  peer: string;
  options: CallOptions;
  state: CallState;
  outcome: CallOutcome | null;
  reason: string | null;
  condition: string | null;
  answeredBy: string | null;
  createdAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
}
