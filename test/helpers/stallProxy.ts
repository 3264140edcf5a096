import net from 'node:net';

/**
 * A loopback TCP proxy in front of a server whose client → server direction can be stalled on demand:
 * while stalled it stops reading what clients write, so their bytes wait in socket buffers and the
 * server neither sees nor acknowledges them — the XMPP link "cannot keep up", deterministically.
 * The server → client direction keeps flowing, or is delayed by a fixed time (delayDownstream): what the
 * server sends, message or ack, reaches the client that much later, in order.
 */
export class StallProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  #stalled = false;
  #downstreamDelayMs = 0;

  constructor(readonly upstreamPort: number) {
    this.#server = net.createServer((client) => {
      const upstream = net.connect(upstreamPort, '127.0.0.1');
      const pair = { client, upstream };
      this.#pairs.add(pair);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d) => {
        // equal delays fire in the order they were set: the stream keeps its order
        if (this.#downstreamDelayMs > 0) setTimeout(() => client.write(d), this.#downstreamDelayMs);
        else client.write(d);
      });
      const close = () => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
      if (this.#stalled) client.pause();
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as net.AddressInfo).port;
  }

  stall(): void {
    this.#stalled = true;
    for (const p of this.#pairs) p.client.pause();
  }

  resume(): void {
    this.#stalled = false;
    for (const p of this.#pairs) p.client.resume();
  }

  /** Holds everything the server sends for `ms` before passing it on (0: at once again). */
  delayDownstream(ms: number): void {
    this.#downstreamDelayMs = ms;
  }

  async close(): Promise<void> {
    for (const p of this.#pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
