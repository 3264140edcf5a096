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
 * peers its tests open closed after each test (`perTest`, checking every event they saw against the
 * spec) or once at the end. `beforeStop` runs before the gateway stops (e.g. bring back a stopped server).
 */
export function gatewayFixture(
  opts: { env?: Record<string, string>; perTest?: boolean; beforeStop?: () => Promise<void> } = {},
): GatewayFixture {
  const fx = { gw: undefined as unknown as TestGateway, streams: [] as SseClient[], peers: [] as XmppPeer[] };
  const close = async (check: boolean): Promise<void> => {
    for (const s of fx.streams.splice(0)) {
      // Every event a test saw, of every kind, must match the contract (NO_SPEC=1 skips it while debugging).
      if (check && !process.env.NO_SPEC)
        for (const e of s.events) expectEventMatchesSpec(e.name, e.data, e.id || undefined);
      s.close();
    }
    await Promise.all(fx.peers.splice(0).map((p) => p.stop()));
  };
  before(async () => {
    fx.gw = await startGateway(opts.env);
  });
  if (opts.perTest) afterEach(() => close(true));
  after(async () => {
    await close(false);
    await opts.beforeStop?.();
    await fx.gw?.stop();
  });
  return fx;
}
