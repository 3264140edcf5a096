/** The rows of workgroup requests and offers, as the store returns them, and how columns map to them. */
export type RequestStatus =
  'queued' | 'offered' | 'accepted' | 'routed' | 'ended' | 'canceled' | 'timeout' | 'failed';
export type OfferStatus = 'pending' | 'accepted' | 'rejected' | 'timeout' | 'revoked' | 'failed';
export const WAITING: RequestStatus[] = ['queued', 'offered'];
export const IN_CHAT: RequestStatus[] = ['accepted', 'routed'];

export interface RequestRow {
  id: string;
  seq: string;
  workgroup: string;
  kind: 'rest' | 'xmpp';
  userJid: string;
  userId: string;
  email?: string;
  question?: string;
  metadata: Record<string, string>;
  status: RequestStatus;
  initialPosition: number;
  agentJid?: string;
  room?: string;
  visitorJoined: boolean;
  endReason?: string;
  joinedAt: Date;
  acceptedAt?: Date;
  endedAt?: Date;
}

export interface OfferRow {
  id: string;
  requestId: string;
  workgroup: string;
  agentJid: string;
  agentFull: string;
  status: OfferStatus;
  reason?: string;
  offeredAt: Date;
  expiresAt: Date;
  answeredAt?: Date;
}

/** What a new request is stored with: its row's identity and visitor fields, and the visitor's token digest. */
export type NewRequest = Pick<
  RequestRow,
  'id' | 'workgroup' | 'kind' | 'userJid' | 'userId' | 'email' | 'question' | 'metadata' | 'joinedAt'
> & { tokenHash?: Buffer };

type Db = Record<string, unknown>;
const str = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
const date = (v: unknown): Date | undefined => (v instanceof Date ? v : undefined);

export const toRequest = (r: Db): RequestRow => ({
  id: String(r.id),
  seq: String(r.seq),
  workgroup: String(r.workgroup),
  kind: r.kind as 'rest' | 'xmpp',
  userJid: String(r.user_jid),
  userId: String(r.user_id),
  email: str(r.email),
  question: str(r.question),
  metadata: (r.metadata ?? {}) as Record<string, string>,
  status: r.status as RequestStatus,
  initialPosition: Number(r.initial_position),
  agentJid: str(r.agent_jid),
  room: str(r.room),
  visitorJoined: r.visitor_joined === true,
  endReason: str(r.end_reason),
  joinedAt: r.joined_at as Date,
  acceptedAt: date(r.accepted_at),
  endedAt: date(r.ended_at),
});
export const toOffer = (r: Db): OfferRow => ({
  id: String(r.id),
  requestId: String(r.request_id),
  workgroup: String(r.workgroup),
  agentJid: String(r.agent_jid),
  agentFull: String(r.agent_full),
  status: r.status as OfferStatus,
  reason: str(r.reason),
  offeredAt: r.offered_at as Date,
  expiresAt: r.expires_at as Date,
  answeredAt: date(r.answered_at),
});
