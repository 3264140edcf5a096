import type { Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import type { Log } from '../log.js';
import { readAttachments, type FileTransfer } from '../attachments/index.js';
import { bareJid } from '../xmpp/jid.js';
import { readData } from '../xmpp/stanzas/message.js';
import type { ComponentConnection } from '../xmpp/component/createComponent.js';
import { domainOf, homeJid } from './addresses.js';
import { bounce, dataWithoutFiles, isChatMessage, stableId } from './stanzas.js';
import type { SyncStore } from './SyncStore.js';
import type { SyncFile, SyncMessage } from './wire.js';

/**
 * The component's inbound side: a local user wrote to a remote user's address here
 * (`bob\40host.example@sync.site.example`); the message goes into the outbox, in order, with its files
 * named by their id here (their bytes follow when the link is up). Stored before anything else happens:
 * the link being down changes nothing for the sender.
 */
export class Capture {
  constructor(
    private readonly deps: {
      store: Pick<SyncStore, 'enqueue'>;
      files: Pick<FileTransfer, 'find'>;
      component: Pick<ComponentConnection, 'send'>;
      domain: string;
      componentDomain: string;
      /** the outbox a message for this domain goes to, or undefined when it cannot be carried */
      peerFor(domain: string): string | undefined;
      /** after a message was queued (a site calls home at once) */
      queued(): void;
      log: Log;
    },
  ) {}

  /** The stanza before this one, still being queued: messages enter the outbox in the order they came. */
  #tail: Promise<void> = Promise.resolve();

  /** Queues `stanza` after every stanza taken before it (a file lookup must not let a later message overtake). */
  take(stanza: Element): Promise<void> {
    const run = this.#tail.then(() => this.#take(stanza));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #take(stanza: Element): Promise<void> {
    if (!isChatMessage(stanza)) return;
    const { domain, componentDomain } = this.deps;
    const from = bareJid(String(stanza.attrs.from ?? ''));
    // Only this deployment's own users are carried: the XMPP server sets `from` for its clients.
    if (domainOf(from) !== domain || !from.includes('@')) return;
    const to = homeJid(String(stanza.attrs.to ?? ''), componentDomain);
    const peer = to && this.deps.peerFor(domainOf(to));
    if (!to || !peer) {
      await this.deps.component
        .send(bounce(stanza, 'item-not-found', 'no such user is reachable through site sync'))
        .catch(() => undefined);
      return;
    }
    const message = await this.#toSync(stanza, from, to);
    if (await this.deps.store.enqueue(peer, message)) {
      this.deps.log.debug({ id: message.id, to, peer }, 'sync message queued');
      this.deps.queued();
    }
  }

  async #toSync(stanza: Element, from: string, to: string): Promise<SyncMessage> {
    const files: SyncFile[] = [];
    const links: string[] = [];
    for (const a of readAttachments(stanza, readData(stanza))) {
      const f = await this.deps.files.find(a.url);
      if (f) files.push({ ref: f.id, url: a.url, name: f.name, type: f.type, size: f.size });
      else links.push(a.url);
    }
    return {
      id: stableId(this.deps.domain, from, stanza) ?? `${this.deps.domain}:${randomUUID()}`,
      from,
      to,
      body: stanza.getChildText('body') ?? '',
      data: dataWithoutFiles(stanza),
      sentAt: new Date().toISOString(),
      files: files.slice(0, 10),
      links: links.slice(0, 10),
    };
  }
}
