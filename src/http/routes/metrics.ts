import type Router from '@koa/router';
import type { Metrics } from '../../metrics/Metrics.js';
import { callerOf, requireMaster, requireOpsNetwork } from '../access.js';

export interface MetricsRoutesDeps {
  metrics: Pick<Metrics, 'render'>;
  /**
   * PARLEY_METRICS_PUBLIC=true: no credentials needed from the operations network (PARLEY_OPS_ALLOW);
   * else, and from anywhere else, the master secret
   */
  public: boolean;
}

/** GET /metrics — Prometheus text exposition of this instance's metrics. */
export function metricsRoutes(router: Router, deps: MetricsRoutesDeps): void {
  router.get('/metrics', async (ctx) => {
    if (!deps.public || callerOf(ctx).kind === 'master') requireMaster(ctx);
    else requireOpsNetwork(ctx);
    const { contentType, body } = await deps.metrics.render();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = contentType;
    ctx.body = body;
  });
}
