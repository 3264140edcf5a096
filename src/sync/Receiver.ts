import type { Readable } from 'node:stream';
import type { Log } from '../log.js';
import type { FileTransfer } from '../attachments/index.js';
import type { ComponentConnection } from '../xmpp/component/createComponent.js';
import { domainOf, proxyJid } from './addresses.js';
import { deliveryStanza } from './stanzas.js';
import type { ReceivedFile, SyncStore } from './SyncStore.js';
import type { SyncFile, SyncMessage } from './wire.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { ErrorCode } from '../errors/codes.js';

/** What the receiving side's upload limits say about a file (not the link failing). */
const REFUSED_FILES = new Set<ErrorCode>(['BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE']);

export type Accepted = { result: 'accepted' } | { result: 'retry' } | { result: 'refused'; reason: string };

/** Fetches the bytes of a file the other side offers (a site asks its host); absent: they must be sent to us. */
export type FetchFile = (ref: string) => Promise<Readable>;

/**
 * Takes messages from the other side exactly once: each id is recorded before anything is delivered, so a
 * message sent again (its answer was lost, the link dropped mid-call) is acknowledged but not delivered
 * twice. Files are stored first (once per origin id), then the message is recorded, then delivered to the
 * local XMPP server through the component; what could not be delivered yet (component offline) is retried.
 * A host also relays: a message for another of its sites goes into that site's outbox, files and all.
 */
export class Receiver {
  #delivering: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly deps: {
      store: SyncStore;
      files: FileTransfer;
      component: Pick<ComponentConnection, 'send' | 'isOnline'>;
      /** this deployment's XMPP domain and sync component */
      domain: string;
      componentDomain: string;
      /** on a host: the sites it may relay to */
      relayTo: readonly string[];
      log: Log;
    },
  ) {}

  async accept(origin: string, m: SyncMessage, fetch?: FetchFile): Promise<Accepted> {
    const { store, domain, relayTo } = this.deps;
    const toDomain = domainOf(m.to);
    const relay = toDomain !== domain && relayTo.includes(toDomain) && toDomain !== domainOf(m.from);
    if (toDomain !== domain && !relay)
      return { result: 'refused', reason: `no users of ${toDomain} are reachable from here` };
    const files: ReceivedFile[] = [];
    const refused: SyncFile[] = [];
    for (const f of m.files) {
      const have = (await store.file(origin, f.ref)) ?? (fetch && (await this.#fetch(origin, m, f, fetch)));
      if (have === 'refused') refused.push(f);
      else if (!have) return { result: 'retry' };
      else files.push(have);
    }
    // A file this side does not take (type or size) stays a link: it must not hold up the messages behind it.
    if (refused.length)
      m = {
        ...m,
        files: m.files.filter((f) => !refused.includes(f)),
        links: [...m.links, ...refused.map((f) => f.url)],
      };
    if (relay) {
      // The relayed copy names the files by their id here: the destination site downloads them from us.
      const copy = { ...m, files: m.files.map((f, i) => ({ ...f, ref: files[i]!.localId })) };
      // (files[] and m.files line up: refused files were taken out of both)
      await store.enqueue(toDomain, copy);
      return { result: 'accepted' };
    }
    await store.receive(origin, m);
    return { result: 'accepted' };
  }

  async #fetch(
    origin: string,
    m: SyncMessage,
    f: SyncFile,
    fetch: FetchFile,
  ): Promise<ReceivedFile | 'refused'> {
    try {
      const stored = await this.deps.files.receive(await fetch(f.ref), {
        owner: `sync:${m.from}`,
        name: f.name,
      });
      return await this.deps.store.rememberFile(origin, f.ref, {
        localId: stored.id,
        attachment: stored.attachment,
      });
    } catch (err) {
      if (!(err instanceof BridgeError) || !REFUSED_FILES.has(err.code)) throw err;
      this.deps.log.warn(
        { id: m.id, ref: f.ref, err: err.message },
        'site sync: a file was refused here; it stays a link',
      );
      return 'refused';
    }
  }

  /** Delivers what was received and not yet delivered, oldest first; one run at a time. */
  deliverPending(): Promise<void> {
    if (this.#delivering) {
      this.#again = true;
      return this.#delivering;
    }
    this.#delivering = (async () => {
      do {
        this.#again = false;
        await this.#deliverAll().catch((err) =>
          this.deps.log.warn({ err }, 'sync delivery failed; retrying later'),
        );
      } while (this.#again);
    })().finally(() => (this.#delivering = undefined));
    return this.#delivering;
  }

  async #deliverAll(): Promise<void> {
    const { store, component } = this.deps;
    for (;;) {
      if (!component.isOnline) return;
      const batch = await store.undelivered(100);
      for (const { origin, message } of batch) {
        await this.#deliver(origin, message);
        await store.markDelivered(message.id);
      }
      if (batch.length < 100) return;
    }
  }

  async #deliver(origin: string, m: SyncMessage): Promise<void> {
    const { store, files, componentDomain } = this.deps;
    const local = [];
    for (const f of m.files) {
      const have = await store.file(origin, f.ref);
      if (have) local.push({ url: f.url, local: have.attachment, id: have.localId });
    }
    await files.grant(
      local.map((f) => f.id),
      { kind: 'user', jid: m.to },
    );
    await this.deps.component.send(
      deliveryStanza(
        {
          id: m.id,
          from: proxyJid(m.from, componentDomain),
          to: m.to,
          body: m.body,
          data: m.data,
          sentAt: m.sentAt,
          files: local,
          links: m.links,
        },
        componentDomain,
      ),
    );
  }
}
