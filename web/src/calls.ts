import { bare, type ParleyApi } from './api';

/**
 * The calls this tab takes part in beyond ringing (Alerts shows what rings): calls the user starts, calls
 * answered here, and the care-messenger seed's auto-answer (`autoAccept`, after `acceptAfter` seconds),
 * shown as a countdown the user can cancel. Parley signals only (XEP-0353): the media happen in the room
 * the call names, which the embedding site opens (`parley:call`).
 */
export interface ActiveCall {
  callId: string;
  peer: string;
  direction: 'in' | 'out';
  /** proposed → ringing (the callee's device shows it) → accepted */
  state: 'proposed' | 'ringing' | 'accepted';
  audioOnly: boolean;
}
export interface StartOptions {
  audioOnly: boolean;
  autoAccept?: boolean;
  acceptAfter?: number;
}
interface Countdown {
  remaining: number;
  timer: ReturnType<typeof setInterval>;
}

export interface CallsDeps {
  api: Pick<ParleyApi, 'call' | 'creds'>;
  changed: () => void;
  fail: (message: string) => void;
  /** answers an incoming call as the Accept button does */
  accept: (callId: string) => void;
  /**
   * XEP-0353 forbids answering without the user's consent unless a trust rule applies: only callers the
   * user knows (a contact, or an admin of one of their organisations) may have their call answered by itself.
   */
  trusted: (jid: string) => boolean;
}

export class Calls {
  active: ActiveCall[] = [];
  readonly countdowns = new Map<string, Countdown>();
  /** calls that ended while this tab knew them (the newest few), so a late answer cannot bring one back */
  private readonly finished = new Set<string>();

  constructor(private readonly deps: CallsDeps) {}

  private path(suffix: string): string {
    return `/restapi/v1/chat/${encodeURIComponent(this.deps.api.creds.streamId)}/calls${suffix}`;
  }

  with(peer: string): ActiveCall | undefined {
    return this.active.find((c) => c.peer === bare(peer));
  }

  async start(peer: string, o: StartOptions): Promise<void> {
    try {
      const body: Record<string, unknown> = { audioOnly: o.audioOnly };
      if (o.autoAccept) {
        body.autoAccept = true;
        body.acceptAfter = o.acceptAfter ?? 0;
      }
      const c = await this.deps.api.call<{ callId: string }>(
        'POST',
        this.path(`/${encodeURIComponent(peer)}`),
        {
          json: body,
        },
      );
      // The stream may have told more already (the callee's screen ringing, even the end of the call):
      // the answer only adds a call the events have not brought yet.
      if (!this.active.some((x) => x.callId === c.callId) && !this.finished.has(c.callId))
        this.upsert({
          callId: c.callId,
          peer: bare(peer),
          direction: 'out',
          state: 'proposed',
          audioOnly: o.audioOnly,
        });
    } catch (err) {
      this.deps.fail(`could not call: ${(err as Error).message}`);
    }
    this.deps.changed();
  }

  async end(callId: string): Promise<void> {
    this.active = this.active.filter((c) => c.callId !== callId);
    this.deps.changed();
    try {
      await this.deps.api.call('POST', this.path(`/${encodeURIComponent(callId)}/end`), { json: {} });
    } catch (err) {
      this.deps.fail(`could not end the call: ${(err as Error).message}`);
    }
  }

  /** Answered here by hand (or by the countdown): the call is now this tab's. */
  answered(callId: string, peer: string, audioOnly: boolean): void {
    this.stopCountdown(callId);
    this.upsert({ callId, peer, direction: 'in', state: 'accepted', audioOnly });
    this.deps.changed();
  }

  /** The user cancels the auto-answer: the call keeps ringing, for Accept or Decline. */
  cancelCountdown(callId: string): void {
    this.stopCountdown(callId);
    this.deps.changed();
  }

  onCall(d: Record<string, unknown>): void {
    const callId = String(d.callId);
    const options = (d.options ?? {}) as { audioOnly?: boolean; autoAccept?: boolean; acceptAfter?: number };
    const peer = bare(String(d.peer ?? ''));
    switch (d.type) {
      case 'requested':
        if (d.direction === 'out')
          this.upsert({
            callId,
            peer,
            direction: 'out',
            state: 'proposed',
            audioOnly: options.audioOnly === true,
          });
        else {
          // Tell the caller this screen shows the call (the seed had no such signal).
          void this.deps.api
            .call('POST', this.path(`/${encodeURIComponent(callId)}/ringing`))
            .catch(() => undefined);
          if (options.autoAccept && this.deps.trusted(peer)) this.countDown(callId, options.acceptAfter ?? 0);
        }
        break;
      case 'ringing':
        this.patch(callId, (c) => (c.state === 'proposed' ? { ...c, state: 'ringing' } : c));
        break;
      case 'accepted':
        this.stopCountdown(callId);
        // Answered on another device of the user: that device has the call, not this tab.
        if (d.direction === 'in' && d.carbon === true)
          this.active = this.active.filter((c) => c.callId !== callId);
        else this.patch(callId, (c) => ({ ...c, state: 'accepted' }));
        break;
      case 'declined':
      case 'ended':
        this.stopCountdown(callId);
        this.active = this.active.filter((c) => c.callId !== callId);
        this.finished.add(callId);
        if (this.finished.size > 100) this.finished.delete(this.finished.values().next().value!);
        break;
    }
  }

  private countDown(callId: string, seconds: number): void {
    if (this.countdowns.has(callId)) return;
    const tick = (): void => {
      const cd = this.countdowns.get(callId);
      if (!cd) return;
      cd.remaining -= 1;
      if (cd.remaining <= 0) {
        this.stopCountdown(callId);
        this.deps.accept(callId);
      }
      this.deps.changed();
    };
    const remaining = Math.max(0, Math.floor(seconds));
    if (remaining === 0) {
      queueMicrotask(() => this.deps.accept(callId));
      return;
    }
    this.countdowns.set(callId, { remaining, timer: setInterval(tick, 1000) });
  }

  private stopCountdown(callId: string): void {
    const cd = this.countdowns.get(callId);
    if (cd) clearInterval(cd.timer);
    this.countdowns.delete(callId);
  }

  private upsert(call: ActiveCall): void {
    this.active = [...this.active.filter((c) => c.callId !== call.callId), call];
  }

  private patch(callId: string, f: (c: ActiveCall) => ActiveCall): void {
    this.active = this.active.map((c) => (c.callId === callId ? f(c) : c));
  }
}
