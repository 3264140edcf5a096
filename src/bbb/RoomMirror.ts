import type { Element } from '@xmpp/xml';
import { bareJid } from '../xmpp/jid.js';
import type { Log } from '../log.js';
import type { ComponentConnection } from '../xmpp/component/createComponent.js';
import { BRIDGE_LOCALPART, puppetLocalpart } from './meetingIds.js';
import type { Meeting, Participant } from './MeetingStore.js';
import { MucPuppets, type Puppet } from '../xmpp/muc/MucPuppets.js';
import { readOccupant } from '../xmpp/muc/read.js';
import { configSubmit, destroyRoom } from '../xmpp/muc/stanzas.js';
import { readRoomMessage, type RoomMessage } from './roomMessage.js';

interface RoomState {
  listener?: Puppet;
  puppets: Map<string, Puppet>;
}

export interface RoomMirrorDeps {
  comp: ComponentConnection;
  /** the component's domain, bbb.<XMPP_DOMAIN> */
  domain: string;
  log: Log;
  /** BBB_CLOSE_ROOMS: destroy the room at the meeting's end (else only leave it) */
  closeRooms: boolean;
  meetingForRoom: (roomJid: string) => Meeting | undefined;
  onMessage: (m: Meeting, msg: RoomMessage) => Promise<void>;
}

/**
 * Each bridged meeting's XMPP room, seen from the bbb.<domain> component: a bridge occupant (the
 * meeting's chat_user) creates, configures and listens to the room; every BBB participant is an occupant
 * of their own (`<userId>@bbb.<domain>/<nick>`) under their BBB name. Work on one room runs in order
 * (join before post, post before leave) and never blocks the Redis event queue.
 */
export class RoomMirror {
  readonly #rooms = new Map<string, RoomState>();
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #puppets: MucPuppets;
  readonly #listenerBare: string;

  constructor(private readonly deps: RoomMirrorDeps) {
    this.#listenerBare = `${BRIDGE_LOCALPART}@${deps.domain}`;
    this.#puppets = new MucPuppets(deps.comp);
    deps.comp.onStanza((el) => this.#onStanza(el));
  }

  open(m: Meeting): Promise<void> {
    return this.#run(m, () => this.#open(m));
  }

  /** The calls below return at once: their work is queued on the room and failures are logged. */
  join(m: Meeting, p: Participant): void {
    this.#queue(m, 'join', async () => {
      await this.#open(m);
      await this.#puppet(m, p);
    });
  }

  post(m: Meeting, p: Participant, body: string): void {
    this.#queue(m, 'post', async () => {
      await this.#open(m);
      const occ = await this.#puppet(m, p);
      await this.#puppets.say(occ.jid, m.roomJid, body);
    });
  }

  /** A message from the bridge occupant itself (what an API caller sent into BBB). */
  say(m: Meeting, body: string): void {
    this.#queue(m, 'say', async () => {
      await this.#open(m);
      const l = this.#state(m).listener;
      if (l) await this.#puppets.say(l.jid, m.roomJid, body);
    });
  }

  leave(m: Meeting, userId: string): void {
    this.#queue(m, 'leave', async () => {
      const occ = this.#state(m).puppets.get(userId);
      if (!occ) return;
      this.#state(m).puppets.delete(userId);
      await this.#puppets.leave(occ, m.roomJid);
    });
  }

  /** The meeting ended: destroy the room (as its owner) or, if configured or refused, just leave it. */
  close(m: Meeting, reason: string): Promise<void> {
    return this.#run(m, async () => {
      const state = this.#state(m);
      this.#rooms.delete(m.roomJid);
      if (this.deps.closeRooms && state.listener) {
        try {
          await this.deps.comp.iq(
            destroyRoom(m.roomJid, reason, state.listener.jid),
            10_000,
            'room destruction',
          );
          return;
        } catch (err) {
          this.deps.log.warn({ err, room: m.roomJid }, 'could not destroy the meeting room; leaving it');
        }
      }
      for (const occ of [...state.puppets.values(), ...(state.listener ? [state.listener] : [])]) {
        await this.#puppets.leave(occ, m.roomJid).catch(() => undefined);
      }
    }).catch(this.#warn('close', m));
  }

  /** After the component (re)connects: whatever the server still has, join again (a no-op for occupants still there). */
  restore(m: Meeting, present: Participant[]): Promise<void> {
    return this.#run(m, async () => {
      this.#rooms.set(m.roomJid, { puppets: new Map() });
      await this.#open(m);
      for (const p of present) await this.#puppet(m, p);
    }).catch(this.#warn('restore', m));
  }

  #state(m: Meeting): RoomState {
    let s = this.#rooms.get(m.roomJid);
    if (!s) this.#rooms.set(m.roomJid, (s = { puppets: new Map() }));
    return s;
  }

  #run<T>(m: Meeting, op: () => Promise<T>): Promise<T> {
    const next = (this.#chains.get(m.roomJid) ?? Promise.resolve()).catch(() => undefined).then(op);
    this.#chains.set(m.roomJid, next);
    void next
      .finally(() => {
        if (this.#chains.get(m.roomJid) === next) this.#chains.delete(m.roomJid);
      })
      .catch(() => undefined);
    return next;
  }

  #queue(m: Meeting, what: string, op: () => Promise<void>): void {
    void this.#run(m, op).catch(this.#warn(what, m));
  }

  #warn =
    (what: string, m: Meeting) =>
    (err: unknown): void => {
      this.deps.log.warn({ err, room: m.roomJid }, `meeting room: ${what} failed`);
    };

  async #open(m: Meeting): Promise<void> {
    const state = this.#state(m);
    if (state.listener) return;
    const nicks = [m.chatUser, `${m.chatUser} (bridge)`, 'BigBlueButton bridge'];
    // No history for any of our occupants: the room's backlog is not BBB's to repeat.
    const { created, ...listener } = await this.#puppets.enter(
      m.roomJid,
      nicks,
      () => `${this.#listenerBare}/parley`,
      0,
    );
    state.listener = listener;
    if (!created) return;
    // Named after its meeting; not persistent, so it goes away once the bridge and everyone left.
    const options = {
      name: `BigBlueButton: ${m.registeredId}`,
      description: `Public chat of BigBlueButton meeting ${m.registeredId}`,
      persistent: false,
    };
    const config = configSubmit(m.roomJid, options, listener.jid);
    await this.deps.comp.iq(config, 10_000, 'room configuration').catch(this.#warn('configure', m));
  }

  async #puppet(m: Meeting, p: Participant): Promise<Puppet> {
    const state = this.#state(m);
    const known = state.puppets.get(p.userId);
    if (known) return known;
    const bare = `${puppetLocalpart(p.userId)}@${this.deps.domain}`;
    const { jid, nick } = await this.#puppets.enter(
      m.roomJid,
      [p.name, `${p.name} (BBB)`, `${p.name} (${p.userId})`],
      (n) => `${bare}/${n}`,
      0,
    );
    state.puppets.set(p.userId, { jid, nick });
    return { jid, nick };
  }

  #onStanza(el: Element): void {
    if (el.is('presence')) this.#onPresence(el);
    else if (el.is('message') && bareJid(String(el.attrs.to ?? '')) === this.#listenerBare)
      this.#onMessage(el);
  }

  #onPresence(el: Element): void {
    this.#puppets.feed(el);
    const p = readOccupant(el);
    const state = p && this.#rooms.get(p.room);
    if (!p?.self || p.available || p.error || !state) return;
    const bare = bareJid(p.to);
    // Kicked, or the room was destroyed by someone else: the next operation joins again.
    if (bare === this.#listenerBare) state.listener = undefined;
    for (const [userId, occ] of state.puppets) if (occ.jid === p.to) state.puppets.delete(userId);
  }

  /** Only the bridge occupant's copy is read (every occupant gets one); our own occupants' messages are echoes. */
  #onMessage(el: Element): void {
    const msg = readRoomMessage(el);
    const state = msg && this.#rooms.get(msg.room);
    if (!msg || !state) return;
    const ours =
      state.listener?.nick === msg.nick || [...state.puppets.values()].some((o) => o.nick === msg.nick);
    const m = this.deps.meetingForRoom(msg.room);
    if (ours || !m) return;
    this.#queue(m, 'forward a room message', () => this.deps.onMessage(m, msg));
  }
}
