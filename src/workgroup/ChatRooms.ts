import xml, { type Element } from '@xmpp/xml';
import { bareJid, normalizeJid } from '../xmpp/jid.js';
import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { ComponentConnection } from '../xmpp/component/createComponent.js';
import type { Workgroup } from './settings.js';
import type { OfferRow, RequestRow, RequestStore } from './RequestStore.js';
import { visitorGroupchatPayload, visitorKey, visitorOfferPayload, type VisitorAddress } from './events.js';
import { MucPuppets } from '../xmpp/muc/MucPuppets.js';
import { readGroupchat, readInvite, readOccupant } from '../xmpp/muc/read.js';
import { configSubmit, mediatedInvite } from '../xmpp/muc/stanzas.js';
import { NS } from '../xmpp/ns.js';

/** A REST visitor's first join shows them the room so far (the question, the welcome text, …). */
const VISITOR_HISTORY = 50;
const BOT_RESOURCE = 'workgroup';

export interface ChatRoomsDeps {
  component: ComponentConnection;
  requests: RequestStore;
  hub: EventHub;
  log: Log;
  serviceDomain: string;
  mucService: string;
  address(r: RequestRow): VisitorAddress;
  /** the chat is over: `agent-left`, `visitor-left` or `room-closed` */
  ended(requestId: string, reason: string): Promise<RequestRow | undefined>;
  /** the workgroup's closing text, posted when the agent leaves */
  closingText(workgroup: string): Promise<string | undefined>;
}

/**
 * The assistance rooms. The component creates each room as `<wg>@workgroup.<domain>/workgroup`, posts
 * the question first, and sends mediated invitations. It stays in the room to see who leaves (the
 * chat ends when the agent or the visitor does). REST visitors take part through a puppet occupant
 * `visitor-<request>@workgroup.<domain>/parley` whose room traffic becomes their `chatapi.ask` events.
 */
export class ChatRooms {
  readonly #puppets: MucPuppets;
  /** room → nick → real JID, as the room's owner sees its occupants */
  readonly #occupants = new Map<string, Map<string, string>>();
  #inbound: Promise<void> = Promise.resolve();
  constructor(private readonly deps: ChatRoomsDeps) {
    this.#puppets = new MucPuppets(deps.component);
  }

  botJid(workgroup: string): string {
    return `${workgroup}@${this.deps.serviceDomain}/${BOT_RESOURCE}`;
  }
  botNick(workgroup: string): string {
    return `${workgroup} (workgroup)`;
  }
  puppetBare(requestId: string): string {
    return `visitor-${requestId}@${this.deps.serviceDomain}`;
  }
  #puppetFull(requestId: string): string {
    return `${this.puppetBare(requestId)}/parley`;
  }
  roomOf(r: RequestRow): string {
    return `${r.workgroup}-${r.id}@${this.deps.mucService}`;
  }

  /** Creates and configures the room, then posts the question (and the welcome text). */
  async open(r: RequestRow, w: Workgroup): Promise<string> {
    const room = this.roomOf(r);
    const bot = this.botJid(r.workgroup);
    await this.#puppets.enter(room, [this.botNick(r.workgroup)], () => bot, 0);
    // A hidden, temporary room named after the request: it goes away when the last occupant leaves.
    // Agents in it may invite more experts (ejabberd's default allows only moderators to invite).
    const config = { name: `${r.workgroup}: ${r.userId}`, description: (r.question ?? '').slice(0, 200) };
    await this.deps.component
      .iq(
        configSubmit(room, { ...config, persistent: false, public: false, allowInvites: true }, bot),
        10_000,
        'room configuration',
      )
      .catch((err) => this.deps.log.debug({ err, room }, 'room configuration refused; the defaults stay'));
    const question = r.question ?? '';
    await this.#puppets.say(bot, room, question || '(no question)', {
      workgroup: r.workgroup,
      requestId: r.id,
      userID: r.userId,
      email: r.email ?? null,
      question,
    });
    if (w.welcomeText) await this.#puppets.say(bot, room, w.welcomeText);
    return room;
  }

  /** Mediated invitations: the agent's carries the offer (XEP-0142), the visitor's the welcome text. */
  async inviteBoth(r: RequestRow, offer: OfferRow, w: Workgroup): Promise<void> {
    const room = r.room ?? this.roomOf(r);
    const bot = this.botJid(r.workgroup);
    // Prosody copies non-MUC children into the invitation it forwards: the agent can match the offer.
    const toAgent = mediatedInvite(
      room,
      offer.agentFull,
      `${r.userId} asks: ${r.question ?? ''}`.slice(0, 500),
      bot,
    );
    toAgent.append(xml('offer', { xmlns: NS.workgroup, jid: r.userJid, id: offer.id }));
    await this.deps.component.send(toAgent);
    const visitor = r.kind === 'rest' ? this.puppetBare(r.id) : r.userJid;
    const welcome = w.welcomeText || `An expert of ${r.workgroup} is here to help`;
    await this.deps.component.send(mediatedInvite(room, visitor, welcome, bot));
  }

  /** The REST visitor enters the room (ofchat `POST /ask/{userId}`); a taken nick gets " (visitor)". */
  async joinVisitor(r: RequestRow, rejoin = false): Promise<{ room: string; nick: string }> {
    if (!r.room) throw new BridgeError('CONFLICT', 'no agent has taken this request yet');
    const o = await this.#puppets.enter(
      r.room,
      [r.userId, `${r.userId} (visitor)`],
      () => this.#puppetFull(r.id),
      rejoin ? 0 : VISITOR_HISTORY,
    );
    await this.deps.requests.setVisitorJoined(r.id, true);
    return { room: r.room, nick: o.nick };
  }

  async postAsVisitor(
    r: RequestRow,
    body: string,
    data?: unknown,
  ): Promise<{ room: string; messageId: string }> {
    if (!r.room || !r.visitorJoined)
      throw new BridgeError('CONFLICT', 'join the room first (POST /restapi/v1/ask/{userId})');
    const messageId = await this.#puppets.say(this.#puppetFull(r.id), r.room, body, data);
    return { room: r.room, messageId };
  }

  async leaveVisitor(r: RequestRow): Promise<void> {
    if (!r.room || !r.visitorJoined) return;
    const nick =
      [...(this.#occupants.get(r.room) ?? new Map<string, string>())].find(
        ([, real]) => real === this.#puppetFull(r.id),
      )?.[0] ?? r.userId;
    await this.#puppets.leave({ jid: this.#puppetFull(r.id), nick }, r.room).catch(() => undefined);
    await this.deps.requests.setVisitorJoined(r.id, false);
  }

  /** The component leaves the room (it closes once nobody is left: rooms are not persistent). */
  async close(room: string): Promise<void> {
    const workgroup = room.split('@')[0]!.replace(/-rq[0-9a-f]+$/, '');
    await this.#puppets
      .leave({ jid: this.botJid(workgroup), nick: this.botNick(workgroup) }, room)
      .catch(() => undefined);
    this.#occupants.delete(room);
  }

  /** After a restart: back into the rooms of chats still going on, the visitors' puppets too. */
  async rejoin(chats: RequestRow[]): Promise<void> {
    for (const r of chats) {
      if (!r.room) continue;
      try {
        await this.#puppets.enter(r.room, [this.botNick(r.workgroup)], () => this.botJid(r.workgroup), 0);
        if (r.kind === 'rest' && r.visitorJoined) await this.joinVisitor(r, true);
        // The room lists its occupants before our self-presence; once they are counted, an empty room is a chat over.
        await this.drain();
        if (this.#others(r).length === 0) await this.#chatOver(r, 'room-closed');
      } catch (err) {
        this.deps.log.warn({ err, room: r.room }, 'could not re-join an assistance room; the chat ends');
        await this.deps.ended(r.id, 'room-closed');
      }
    }
  }

  async drain(): Promise<void> {
    for (let tail = this.#inbound; ; tail = this.#inbound) {
      await tail;
      if (tail === this.#inbound) return;
    }
  }

  /** Stanzas addressed to the bot or a puppet; true when they were this class's. */
  onStanza(el: Element): boolean {
    const to = String(el.attrs.to ?? '').toLowerCase();
    const local = to.split('@')[0]!;
    const isPuppet = /^visitor-rq[0-9a-f]{16}$/.test(local);
    if (!isPuppet && !to.endsWith(`/${BOT_RESOURCE}`)) return false;
    if (this.#puppets.feed(el)) return true;
    this.#inbound = this.#inbound
      .then(() =>
        el.name === 'presence'
          ? this.#presence(el)
          : isPuppet
            ? this.#toVisitor(local.slice(8), el)
            : undefined,
      )
      .catch((err) => this.deps.log.warn({ err }, 'room stanza not handled'));
    return true;
  }

  async #presence(p: Element): Promise<void> {
    const o = readOccupant(p);
    if (!o || o.error || !String(p.attrs.to).endsWith(`/${BOT_RESOURCE}`)) return; // puppets' views of the room are not tracked
    const occupants = this.#occupants.get(o.room) ?? new Map<string, string>();
    this.#occupants.set(o.room, occupants);
    if (o.available) {
      occupants.set(o.nick, o.realJid ?? '');
      return;
    }
    occupants.delete(o.nick);
    const r = await this.deps.requests.inRoom(o.room);
    if (!r) return;
    const real = normalizeJid(o.realJid ?? '');
    const bare = bareJid(real);
    const reason = o.self
      ? 'room-closed'
      : bare === r.agentJid
        ? 'agent-left'
        : (r.kind === 'rest' ? bare === this.puppetBare(r.id) : real === normalizeJid(r.userJid))
          ? 'visitor-left'
          : undefined;
    if (reason) await this.#chatOver(r, reason);
  }

  async #chatOver(r: RequestRow, reason: string): Promise<void> {
    const ended = await this.deps.ended(r.id, reason);
    if (ended && reason === 'agent-left' && r.room) {
      const closing = await this.deps.closingText(r.workgroup);
      if (closing) await this.#puppets.say(this.botJid(r.workgroup), r.room, closing).catch(() => undefined);
    }
    if (r.room && this.#others(r).length === 0) {
      await this.leaveVisitor({ ...r, visitorJoined: true });
      await this.close(r.room);
    }
  }

  /** Occupants of the request's room other than the component itself (the bot and the visitor's puppet). */
  #others(r: RequestRow): string[] {
    return [...(this.#occupants.get(r.room ?? '') ?? new Map<string, string>()).values()].filter(
      (real) =>
        normalizeJid(real) !== normalizeJid(this.botJid(r.workgroup)) &&
        bareJid(real) !== this.puppetBare(r.id),
    );
  }

  /** Room traffic of a REST visitor's puppet: the invitation and the room's messages, as `chatapi.ask`. */
  async #toVisitor(requestId: string, m: Element): Promise<void> {
    if (m.name !== 'message') return;
    const r = await this.deps.requests.get(requestId);
    if (!r) return;
    const key = visitorKey(r.id);
    const inv = readInvite(m);
    if (inv) {
      await this.deps.hub.publish(
        key,
        EVENT_NAMES.ask,
        visitorOfferPayload(this.deps.address(r), inv.room, inv.inviter, inv.reason),
        { durable: true },
      );
      return;
    }
    const g = readGroupchat(m);
    if (!g) return;
    const mine = g.nick !== undefined && this.#occupants.get(g.room)?.get(g.nick) === this.#puppetFull(r.id);
    await this.deps.hub.publish(
      key,
      EVENT_NAMES.ask,
      visitorGroupchatPayload(this.deps.address(r), { ...g, direction: mine ? 'out' : 'in' }),
      { durable: true },
    );
  }
}
