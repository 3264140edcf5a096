import { Readable } from 'node:stream';
import type { Log } from '../log.js';
import type { FileTransfer } from '../attachments/index.js';
import type { Receiver } from './Receiver.js';
import { sha256Hex, signHeaders } from './signing.js';
import type { SyncStore } from './SyncStore.js';
import type { PullAnswer, PushAnswer, SyncMessage, VersionedSettings } from './wire.js';

/** The host answered, but not with 2xx. */
class HostAnswer extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A site's outbox and cursor name the host by this key. */
export const HOST = 'host';
const BATCH = 50;
const CALL_TIMEOUT_MS = 30_000;

/**
 * A site phones home: every interval (and at once after a local message) it sends its outbox to the host
 * in order — each message's files first — then collects what the host holds for it, then the settings
 * when the host has newer ones. Only the site calls, so it may sit behind NAT on a link that comes and
 * goes; a call that fails leaves everything where it was and the next round starts over from the database.
 */
export class SiteLink {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  /** files the host confirmed this process lifetime (the host also answers a repeat upload without storing twice) */
  readonly #uploaded = new Set<string>();
  /** aborts the call in flight when the feature stops (a dead link would otherwise hold shutdown for its timeout) */
  #abort = new AbortController();
  lastError: string | undefined;

  constructor(
    private readonly deps: {
      store: SyncStore;
      receiver: Receiver;
      files: Pick<FileTransfer, 'find'>;
      hostUrl: string;
      key: string;
      site: string;
      intervalMs: () => number;
      applySettings(v: VersionedSettings): Promise<void>;
      log: Log;
    },
  ) {}

  start(): void {
    this.#stopped = false;
    this.#abort = new AbortController();
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#running;
  }

  /** Runs a round now (or right after the one running). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#round().finally(() => {
      this.#running = undefined;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        this.kick();
      } else this.#timer = setTimeout(() => this.kick(), this.deps.intervalMs()).unref();
    });
  }

  async #round(): Promise<void> {
    try {
      await this.#push();
      const settingsVersion = await this.#pull();
      await this.deps.receiver.deliverPending();
      const applied = await this.deps.store.settings('applied');
      if (settingsVersion > applied.version)
        await this.deps.applySettings(
          await this.#json<VersionedSettings>('GET', '/restapi/v1/sync/peer/settings'),
        );
      if (this.lastError) this.deps.log.info('site sync: the host is reachable again');
      this.lastError = undefined;
    } catch (err) {
      const why = (err as Error).message;
      if (why !== this.lastError) this.deps.log.warn({ err }, 'site sync: the host is unreachable; retrying');
      this.lastError = why;
    }
  }

  /** Sends the outbox, oldest first, until it is empty. */
  async #push(): Promise<void> {
    const { store } = this.deps;
    for (;;) {
      const rows = await store.pending(HOST, BATCH);
      if (!rows.length) return;
      const messages: SyncMessage[] = [];
      for (const { message } of rows) messages.push(await this.#uploadFiles(message));
      const answer = await this.#json<PushAnswer>(
        'POST',
        '/restapi/v1/sync/peer/messages',
        JSON.stringify({ messages }),
      );
      for (const r of answer.refused) this.deps.log.warn(r, 'site sync: the host refused a message; dropped');
      await store.markSent([...answer.accepted, ...answer.refused.map((r) => r.id)]);
      if (answer.retry.length) {
        // The host lacks a file it was sent (its database was restored?): send them again next round.
        for (const { message } of rows) for (const f of message.files) this.#uploaded.delete(f.ref);
        return;
      }
    }
  }

  /**
   * Uploads the message's files the host may lack; a file removed here since (housekeeping) or one the host
   * refuses stays a link.
   */
  async #uploadFiles(m: SyncMessage): Promise<SyncMessage> {
    const gone = new Set<string>();
    for (const f of m.files) {
      if (this.#uploaded.has(f.ref)) continue;
      const local = await this.deps.files.find(f.ref);
      if (!local) {
        gone.add(f.ref);
        continue;
      }
      const path = `/restapi/v1/sync/peer/files/${f.ref}?name=${encodeURIComponent(local.name)}`;
      const res = await this.#call(
        'PUT',
        path,
        local.sha256,
        Readable.toWeb(local.open()) as ReadableStream,
        {
          'content-type': 'application/octet-stream',
          'content-length': String(local.size),
        },
      );
      await res.body?.cancel();
      this.#uploaded.add(f.ref);
    }
    if (!gone.size) return m;
    const lost = m.files.filter((f) => gone.has(f.ref));
    return {
      ...m,
      files: m.files.filter((f) => !gone.has(f.ref)),
      links: [...m.links, ...lost.map((f) => f.url)],
    };
  }

  /** Collects what the host holds for this site; returns the host's settings version. */
  async #pull(): Promise<number> {
    const { store, receiver } = this.deps;
    for (;;) {
      const { after } = await store.cursor(HOST);
      const answer = await this.#json<PullAnswer>(
        'GET',
        `/restapi/v1/sync/peer/messages?after=${after}&limit=${BATCH}`,
      );
      for (const { seq, message } of answer.messages) {
        const r = await receiver.accept(HOST, message, (ref) => this.#download(ref));
        if (r.result === 'refused')
          this.deps.log.warn({ id: message.id, reason: r.reason }, 'site sync: not deliverable here');
        await store.advance(HOST, seq);
      }
      if (!answer.messages.length) await store.advance(HOST, after); // records the contact
      if (answer.messages.length < BATCH) return answer.settingsVersion;
    }
  }

  async #download(ref: string): Promise<Readable> {
    const res = await this.#call('GET', `/restapi/v1/sync/peer/files/${ref}`, sha256Hex(''));
    return Readable.fromWeb(res.body! as never);
  }

  async #json<T>(method: string, path: string, body?: string): Promise<T> {
    const res = await this.#call(
      method,
      path,
      sha256Hex(body ?? ''),
      body,
      body ? { 'content-type': 'application/json' } : {},
    );
    return (await res.json()) as T;
  }

  /** One signed call; anything but 2xx throws (the round ends and is tried again later). */
  async #call(
    method: string,
    path: string,
    digest: string,
    body?: string | ReadableStream,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const { key, site, hostUrl } = this.deps;
    const res = await fetch(hostUrl + path, {
      method,
      headers: { ...headers, ...signHeaders(key, { method, url: path, site, digest }) },
      body,
      redirect: 'manual',
      signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]),
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    if (res.status < 200 || res.status >= 300) {
      const text = await res.text().catch(() => '');
      throw new HostAnswer(
        res.status,
        `${method} ${path.split('?')[0]}: host answered ${res.status} ${text.slice(0, 300)}`,
      );
    }
    return res;
  }
}
