import net from 'node:net';

/**
 * A loopback TCP proxy standing for an intermittent link between two deployments:
 * - `up`: bytes flow both ways;
 * - `down`: every connection is cut and new ones are closed at once (the line is dead);
 * - `loseAnswers`: requests reach the server, but a connection is cut as soon as the server answers, so
 *   the caller never learns that its call worked (the case that tests exactly-once delivery).
 */
export type LinkState = 'up' | 'down' | 'loseAnswers';

export class CutProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #state: LinkState = 'up';
  /** connections cut because the server answered while answers were being lost */
  answersLost = 0;

  constructor(readonly upstreamPort: number) {
    this.#server = net.createServer((client) => {
      if (this.#state === 'down') {
        client.destroy();
        return;
      }
      const upstream = net.connect(upstreamPort, '127.0.0.1');
      this.#sockets.add(client).add(upstream);
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d) => {
        if (this.#state === 'loseAnswers') {
          this.answersLost++;
          close();
        } else client.write(d);
      });
      const close = (): void => {
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as net.AddressInfo).port;
  }

  set(state: LinkState): void {
    this.#state = state;
    if (state !== 'up') for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
