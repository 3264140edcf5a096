import type { StanzaErrorLike } from '../errors/fromStanzaError.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import type { Affiliation, ArchivedMessage, Role } from './inbound.js';
import type { RoomOptions } from '../xmpp/muc/stanzas.js';

/**
 * What a session knows about the rooms it is in: kept per XMPP session (in memory), because room
 * occupancy is a property of the XMPP session — it ends with logoff, and a reconnect re-joins exactly
 * these rooms (rejoin.ts).
 */
export interface Occupant {
  nick: string;
  role: Role;
  affiliation: Affiliation;
  jid?: string;
  show?: string;
  status?: string;
}

/** Query ids of room archive catch-ups start with this, so their results are told from the user archive's. */
export const MAM_QUERY_PREFIX = 'room-';

/** joining: presence sent, waiting for the room; joined: in the room; offline: to be re-joined after a reconnect. */
export type RoomStatus = 'joining' | 'joined' | 'offline';

export class JoinedRoom {
  status: RoomStatus = 'joining';
  role: Role = 'none';
  affiliation: Affiliation = 'none';
  subject?: string;
  created = false;
  /** set by a leave request, so its unavailable self-presence is not mistaken for a lost connection */
  leaving = false;
  readonly occupants = new Map<string, Occupant>();
  /** the join (or re-join) in flight, so concurrent requests share it */
  pending?: Promise<unknown>;
  constructor(
    readonly jid: string,
    public nick: string,
    public password: string | undefined,
    /** the options the room was created with: re-applied if a re-join finds it gone and creates it again */
    public options: RoomOptions | undefined,
    readonly maxStanzas: number,
  ) {}
}

/** Things the inbound path reports that requests wait for. */
export type RoomSignal =
  | { kind: 'self'; room: string; created: boolean }
  | { kind: 'joinError'; room: string; error: StanzaErrorLike }
  | { kind: 'subject'; room: string }
  | {
      kind: 'stored';
      room: string;
      messageId?: string;
      eventId?: string;
      stanzaId?: string;
      timestamp?: string;
    }
  | { kind: 'messageError'; room: string; messageId?: string; error: StanzaErrorLike }
  | { kind: 'left'; room: string };

/** `pick` answers a signal with `{ value }`, `{ error }`, or undefined when the signal is not the one awaited. */
export type SignalPick<T> = (s: RoomSignal) => { value: T } | { error: Error } | undefined;

interface Waiter {
  pick: SignalPick<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class SessionRooms {
  readonly rooms = new Map<string, JoinedRoom>();
  // The two below are made when first needed: most sessions never wait on a room nor catch one up, and an
  // empty Map or Set costs ~150-180 bytes (10,000 sessions is the goal).
  #waiters: Set<Waiter> | undefined;
  #tail: Promise<void> = Promise.resolve();
  #mam: Map<string, ArchivedMessage[]> | undefined;

  /** MAM results collected for a running catch-up query, by query id (see rejoin.ts) */
  get mam(): Map<string, ArchivedMessage[]> {
    return (this.#mam ??= new Map());
  }

  /** Registers before the stanza that triggers the answer is sent, so no answer can slip past. */
  waitFor<T>(pick: SignalPick<T>, timeoutMs: number, onTimeout: () => T | Error): Promise<T> {
    const p = new Promise<T>((resolve, reject) => {
      const w: Waiter = {
        pick: pick as SignalPick<unknown>,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.#waiters?.delete(w);
          const out = onTimeout();
          if (out instanceof Error) reject(out);
          else resolve(out);
        }, timeoutMs),
      };
      w.timer.unref?.();
      (this.#waiters ??= new Set()).add(w);
    });
    p.catch(() => undefined); // a caller that stops awaiting (its send failed) must not leave an unhandled rejection
    return p;
  }

  /**
   * Inbound room stanzas of this session are handled one at a time, in arrival order, so stored rows
   * and event ids keep the room's order whatever the stanza router does.
   */
  enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.#tail.then(work);
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** Records the first matching signal without a timeout, for checks made after a round trip; stop() when done. */
  watch<T>(pick: SignalPick<T>): {
    readonly value: T | undefined;
    readonly error: Error | undefined;
    stop(): void;
  } {
    const seen: { value?: T; error?: Error } = {};
    const w: Waiter = {
      pick: pick as SignalPick<unknown>,
      timer: undefined as unknown as NodeJS.Timeout,
      resolve: (v) => {
        seen.value = v as T;
      },
      reject: (e) => {
        seen.error = e;
      },
    };
    (this.#waiters ??= new Set()).add(w);
    return {
      get value() {
        return seen.value;
      },
      get error() {
        return seen.error;
      },
      stop: () => {
        this.#waiters?.delete(w);
      },
    };
  }

  signal(s: RoomSignal): void {
    const waiters = this.#waiters;
    if (!waiters) return;
    for (const w of [...waiters]) {
      const out = w.pick(s);
      if (!out) continue;
      waiters.delete(w);
      clearTimeout(w.timer);
      if ('error' in out) w.reject(out.error);
      else w.resolve(out.value);
    }
  }

  /** The session lost its connection: nothing awaited will come; every room is to be re-joined. */
  disconnected(err: Error): void {
    for (const w of this.#waiters ?? []) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.#waiters?.clear();
    for (const room of this.rooms.values()) {
      room.status = 'offline';
      room.occupants.clear();
    }
  }
}

/** One SessionRooms per live session; dropped with the session object. */
export class RoomRegistry {
  readonly #bySession = new WeakMap<UserSession, SessionRooms>();
  of(session: UserSession): SessionRooms {
    let s = this.#bySession.get(session);
    if (!s) this.#bySession.set(session, (s = new SessionRooms()));
    return s;
  }
}

/** A joined room as the API shows it (JoinedRoom in openapi.yaml). */
export function roomView(room: JoinedRoom) {
  return {
    room: room.jid,
    nick: room.nick,
    status: room.status,
    role: room.role,
    affiliation: room.affiliation,
    subject: room.subject ?? null,
    occupants: [...room.occupants.values()].sort((a, b) => a.nick.localeCompare(b.nick)),
  };
}
