import type { Element } from '@xmpp/xml';
import { BridgeError } from '../../errors/BridgeError.js';
import { fromStanzaError } from '../../errors/fromStanzaError.js';
import type { ComponentConnection } from '../component/createComponent.js';
import { bareJid, normalizeJid } from '../jid.js';
import { readStanzaError, Waiters } from '../Waiters.js';
import { readOccupant } from './read.js';
import { groupchat, joinPresence, leavePresence } from './stanzas.js';

/** One of a component's occupants: the full JID it speaks as and the nick the room gave it. */
export interface Puppet {
  jid: string;
  nick: string;
}

const JOIN_TIMEOUT_MS = 10_000;

/**
 * Occupants a component puppets in MUC rooms (the workgroup's bot and REST visitors, the BBB bridge and
 * its participants). A component has no session that joins for it: it sends the join presence with its
 * own `from` and must recognise the room's answer among its inbound stanzas, so the owner of the
 * component offers each inbound stanza to `feed` first.
 * References: XEP-0045 §7.2 (entering a room: self-presence 110, 201 created, conflict), §7.14 (exit).
 */
export class MucPuppets {
  readonly #waiters = new Waiters();
  constructor(
    private readonly link: Pick<ComponentConnection, 'send'>,
    private readonly timeoutMs = JOIN_TIMEOUT_MS,
  ) {}

  /** true when the stanza answered a join in flight (it is then consumed). */
  feed(stanza: Element): boolean {
    return this.#waiters.feed(stanza);
  }

  /**
   * Joins `room` under the first of `nicks` the room accepts: a nick someone else holds answers
   * `conflict` and the next is tried. `jidFor` names the occupant's full JID for each nick. Resolves
   * with the room's self-presence; rejects with the error table's reading of a refusal, or on timeout.
   */
  async enter(
    room: string,
    nicks: string[],
    jidFor: (nick: string) => string,
    maxStanzas: number,
  ): Promise<Puppet & { created: boolean }> {
    for (const [i, nick] of nicks.entries()) {
      try {
        return await this.#enterAs(room, nick, jidFor(nick), maxStanzas);
      } catch (err) {
        const last = i === nicks.length - 1;
        if (last || !(err instanceof BridgeError && err.code === 'CONFLICT')) throw err;
      }
    }
    throw new BridgeError('CONFLICT', `no nick to join ${room} with`);
  }

  leave(p: Puppet, room: string): Promise<void> {
    return this.link.send(leavePresence(room, p.nick, p.jid));
  }

  /** Posts into the room as the puppet; resolves with the message id (its origin-id too). */
  async say(jid: string, room: string, body: string, data?: unknown): Promise<string> {
    const msg = groupchat(room, body, { from: jid, data });
    await this.link.send(msg);
    return String(msg.attrs.id);
  }

  async #enterAs(
    room: string,
    nick: string,
    jid: string,
    maxStanzas: number,
  ): Promise<Puppet & { created: boolean }> {
    const me = normalizeJid(jid);
    const roomBare = bareJid(room);
    const answer = this.#waiters.wait<(Puppet & { created: boolean }) | Error>(
      (s) => {
        if (s.name !== 'presence' || normalizeJid(String(s.attrs.to ?? '')) !== me) return undefined;
        const o = readOccupant(s);
        if (!o || o.room !== roomBare) return undefined;
        if (o.error) return fromStanzaError(readStanzaError(s), `joining ${room}`);
        return o.self && o.available ? { jid, nick: o.nick, created: o.created } : undefined;
      },
      this.timeoutMs,
      `join of ${room}`,
    );
    await this.link.send(joinPresence(room, nick, { from: jid, maxStanzas })).catch((err: unknown) => {
      answer.catch(() => undefined);
      throw err;
    });
    const joined = await answer;
    if (joined instanceof Error) throw joined;
    return joined;
  }
}
