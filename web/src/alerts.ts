import { bare, localpart, type AgentQueue, type ParleyApi } from './api';

export interface Offer {
  offerId: string;
  workgroup: string;
  workgroupName: string;
  visitor: string;
  question: string;
}
export interface IncomingCall {
  callId: string;
  peer: string;
  audioOnly: boolean;
  roomName: string | null;
}

interface AlertDeps {
  api: Pick<
    ParleyApi,
    'acceptCall' | 'declineCall' | 'assistQueues' | 'goOnDuty' | 'goOffDuty' | 'acceptOffer' | 'rejectOffer'
  >;
  changed: () => void;
  /** something new rings (sound) */
  ring: () => void;
  fail: (message: string) => void;
  /** a call the user accepted here: the embedding site starts the media (Parley only signals) */
  callAccepted: (call: IncomingCall) => void;
}

/**
 * What rings until answered, shown together in one banner area: incoming calls (XEP-0353 proposals,
 * `chatapi.call`) and expert-queue offers (`chatapi.assist`), with the agent console's workgroups the offers
 * come from.
 */
export class Alerts {
  calls: IncomingCall[] = [];
  offers: Offer[] = [];
  /** the workgroups this user belongs to (the "Queues" tab) */
  workgroups: AgentQueue[] = [];
  /** workgroups whose offer this user accepted: their room invitation is joined at once */
  private assisting = new Set<string>();

  constructor(private readonly deps: AlertDeps) {}

  onCall(d: Record<string, unknown>): void {
    const callId = String(d.callId);
    if (d.type === 'requested' && d.direction === 'in') {
      if (this.calls.some((c) => c.callId === callId)) return;
      const options = (d.options ?? {}) as { audioOnly?: boolean; roomName?: string };
      this.calls = [
        ...this.calls,
        {
          callId,
          peer: bare(String(d.peer ?? d.from)),
          audioOnly: options.audioOnly === true,
          roomName: options.roomName ?? null,
        },
      ];
      this.deps.ring();
    } else if (d.type === 'accepted' || d.type === 'declined' || d.type === 'ended') {
      this.calls = this.calls.filter((c) => c.callId !== callId);
    }
  }

  async answerCall(call: IncomingCall, accept: boolean): Promise<void> {
    this.calls = this.calls.filter((c) => c.callId !== call.callId);
    this.deps.changed();
    try {
      if (accept) {
        await this.deps.api.acceptCall(call.callId);
        this.deps.callAccepted(call);
      } else await this.deps.api.declineCall(call.callId);
    } catch (err) {
      this.deps.fail(`could not ${accept ? 'accept' : 'decline'} the call: ${(err as Error).message}`);
    }
  }

  onAssist(d: Record<string, unknown>): void {
    const offerId = String(d.offerId ?? '');
    if (d.type === 'offerReceived') {
      if (this.offers.some((o) => o.offerId === offerId)) return;
      const meta = (d.metaData ?? {}) as Record<string, string>;
      const wg = String(d.workgroup ?? '');
      this.offers = [
        ...this.offers,
        {
          offerId,
          workgroup: wg,
          workgroupName: localpart(wg),
          visitor: meta.username ?? localpart(String(d.from)),
          question: meta.question ?? '',
        },
      ];
      this.deps.ring();
    } else if (d.type === 'offerRevoked') {
      this.offers = this.offers.filter((o) => o.offerId !== offerId);
    }
  }

  async answerOffer(offer: Offer, accept: boolean): Promise<void> {
    this.offers = this.offers.filter((o) => o.offerId !== offer.offerId);
    if (accept) this.assisting.add(offer.workgroupName);
    this.deps.changed();
    try {
      if (accept) await this.deps.api.acceptOffer(offer.offerId);
      else await this.deps.api.rejectOffer(offer.offerId);
    } catch (err) {
      this.assisting.delete(offer.workgroupName);
      this.deps.fail(`could not ${accept ? 'accept' : 'reject'} the offer: ${(err as Error).message}`);
    }
  }

  /** Whether a room invitation is the assistance room of an offer accepted here (rooms are `<workgroup>-<id>`). */
  claims(roomJid: string): boolean {
    const name = localpart(roomJid);
    const mine = [...this.assisting].filter((w) => name.startsWith(`${w}-`));
    for (const w of mine) this.assisting.delete(w);
    return mine.length > 0;
  }

  async refreshQueues(): Promise<void> {
    const { queues } = await this.deps.api.assistQueues().catch(() => ({ queues: [] as AgentQueue[] }));
    this.workgroups = queues;
    this.deps.changed();
  }

  async setDuty(workgroup: string, on: boolean): Promise<void> {
    try {
      if (on) await this.deps.api.goOnDuty(workgroup);
      else await this.deps.api.goOffDuty(workgroup);
    } catch (err) {
      this.deps.fail((err as Error).message);
    }
    await this.refreshQueues();
  }
}
