import type { SseClient } from './sse.js';
import type { XmppPeer } from './xmppPeer.js';
import { startGateway, type TestGateway } from './gateway.js';
import { expectEventMatchesSpec } from './openapi.js';

export interface GatewayFixture {
  /** set by the fixture's `before`; a test may replace it (a restart) and the fixture stops that one */
  gw: TestGateway;
  /** SSE streams and native clients the tests open: closed for them */
  readonly streams: SseClient[];
  readonly peers: XmppPeer[];
}

/**
 * The usual set-up of an integration `describe`: one gateway for the block, and the streams and native
 * peers its tests open closed after each test (`perTest`) or once at the end. Either way, after each
 * test every event its streams saw is checked against the spec, so a mismatch fails the test that saw
 * it. `beforeStop` runs before the gateway stops (e.g. bring back a stopped server).
 */
export function gatewayFixture(
  opts: { env?: Record<string, string>; perTest?: boolean; beforeStop?: () => Promise<void> } = {},
): GatewayFixture {
  const fx = { gw: undefined as unknown as TestGateway, streams: [] as SseClient[], peers: [] as XmppPeer[] };
  /** how many of a stream's events have been checked already (streams live across tests without perTest) */
  const checked = new WeakMap<SseClient, number>();
  const check = (): void => {
    for (const s of fx.streams) {
      const events = s.events.slice(checked.get(s) ?? 0);
      checked.set(s, s.events.length);
      // Every event a test saw, of every kind, must match the contract (NO_SPEC=1 skips it while debugging).
      if (!process.env.NO_SPEC)
        for (const e of events) expectEventMatchesSpec(e.name, e.data, e.id || undefined);
    }
  };
  const close = async (): Promise<void> => {
    for (const s of fx.streams.splice(0)) s.close();
    await Promise.all(fx.peers.splice(0).map((p) => p.stop()));
  };
  before(async () => {
    fx.gw = await startGateway(opts.env);
  });
  afterEach(async () => {
    try {
      check();
    } finally {
      if (opts.perTest) await close();
    }
  });
  after(async () => {
    await close();
    await opts.beforeStop?.();
    await fx.gw?.stop();
  });
  return fx;
}
