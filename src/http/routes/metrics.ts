import type Router from '@koa/router';
import type { Metrics } from '../../metrics/Metrics.js';
import { requireMaster } from '../access.js';

export interface MetricsRoutesDeps {
  metrics: Pick<Metrics, 'render'>;
  /** PARLEY_METRICS_PUBLIC=true: no credentials needed (a scraper on a private network); else the master secret */
  public: boolean;
}

/** GET /metrics — Prometheus text exposition of this instance's metrics. */
export function metricsRoutes(router: Router, deps: MetricsRoutesDeps): void {
  router.get('/metrics', async (ctx) => {
    if (!deps.public) requireMaster(ctx);
    const { contentType, body } = await deps.metrics.render();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = contentType;
    ctx.body = body;
  });
}
