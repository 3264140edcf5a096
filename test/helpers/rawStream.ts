import { request, type IncomingMessage } from 'node:http';

/**
 * An event stream read by hand, for tests about clients that stop reading: it starts paused (nothing is
 * read past the socket's own buffers) until `drain()`, which reads everything to the end and returns the
 * complete frames (a frame cut off by a dropped connection is left out).
 */
export class RawStream {
  readonly localPort: number;
  private constructor(
    readonly res: IncomingMessage,
    localPort: number,
  ) {
    this.localPort = localPort;
    res.pause();
    // Heard from the start: a server may drop the stream before drain() is called, and its 'close' would
    // otherwise have been and gone.
    this.#ended = new Promise<void>((resolve) => {
      res.once('close', resolve);
      res.once('end', resolve);
      res.once('error', () => resolve());
    });
  }
  readonly #ended: Promise<void>;

  static open(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { Accept: 'text/event-stream', ...headers } });
      req.on('response', (res) => resolve(new RawStream(res, req.socket!.localPort!)));
      req.on('error', reject);
      req.end();
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  /**
   * Reads to the end (the server closed or dropped the stream), or until the event `stopAt` arrived;
   * the ids of the complete frames.
   */
  async drain(stopAt?: string): Promise<{ ids: string[]; text: string }> {
    const chunks: Buffer[] = [];
    const mark = stopAt === undefined ? undefined : `id:${stopAt}\n`;
    let tail = '';
    this.res.on('data', (c: Buffer) => {
      chunks.push(c);
      if (!mark) return;
      tail = tail.slice(-mark.length) + c.toString('latin1');
      if (tail.includes(mark)) this.res.destroy();
    });
    this.res.resume();
    await this.#ended;
    const text = Buffer.concat(chunks).toString('utf8');
    const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
    const ids = [...complete.matchAll(/^id:(\d+)$/gm)].map((m) => m[1]!);
    return { ids, text };
  }

  close(): void {
    this.res.destroy();
  }
}
