import type Router from '@koa/router';
import { BridgeError } from '../errors/BridgeError.js';
import { requireMaster } from '../http/access.js';
import { validate } from '../http/body.js';
import type { SyncStore } from './SyncStore.js';
import { SyncSettings, type VersionedSettings } from './wire.js';

export interface SyncStatus {
  role: 'off' | 'host' | 'site';
  domain: string;
  component: string;
  /** messages written here that the other side has not taken yet */
  outbox: number;
  /** messages received that the local XMPP server has not been handed yet */
  undelivered: number;
  /** a site: when it last reached its host, and the last failure since (null when the last round worked) */
  lastContact: string | null;
  lastError: string | null;
  settingsVersion: number;
}

/** Operator calls (master secret): the link's state, and the settings a host publishes to its sites. */
export function syncAdminRoutes(
  router: Router,
  deps: {
    role: SyncStatus['role'];
    store: SyncStore;
    status(): Promise<SyncStatus>;
    publish(settings: SyncSettings): Promise<VersionedSettings>;
  },
): void {
  const enabled = (): void => {
    if (deps.role === 'off') throw new BridgeError('SYNC_DISABLED', 'site sync is off (PARLEY_SYNC_ROLE)');
  };

  router.get('/restapi/v1/sync/status', async (ctx) => {
    requireMaster(ctx);
    enabled();
    ctx.body = await deps.status();
  });

  router.get('/restapi/v1/sync/settings', async (ctx) => {
    requireMaster(ctx);
    enabled();
    ctx.body = await deps.store.settings(deps.role === 'host' ? 'published' : 'applied');
  });

  router.put('/restapi/v1/sync/settings', async (ctx) => {
    requireMaster(ctx);
    enabled();
    if (deps.role !== 'host')
      throw new BridgeError(
        'SYNC_DISABLED',
        'settings are published by the host; a site applies what it receives',
      );
    ctx.body = await deps.publish(validate(SyncSettings, ctx.request.body));
  });
}
