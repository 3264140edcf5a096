import type { Feature, GatewayContext } from '../feature.js';
import { createFileTransfer, type UploadPolicy } from '../attachments/index.js';
import { createComponent, type ComponentConnection } from '../xmpp/component/createComponent.js';
import { syncAdminRoutes, type SyncStatus } from './adminRoutes.js';
import { Capture } from './Capture.js';
import { peerRoutes } from './peerRoutes.js';
import { Receiver } from './Receiver.js';
import { HOST, SiteLink } from './SiteLink.js';
import { SyncStore } from './SyncStore.js';
import type { VersionedSettings } from './wire.js';

export type SyncFeatureDeps = Pick<GatewayContext, 'config' | 'log' | 'db'> & {
  /** the upload limits the host's settings change on a site (shared with the attachments feature) */
  uploadPolicy: UploadPolicy;
};

/**
 * Site sync (docs/site-sync.md): chats and files between two deployments over an intermittent link, and
 * settings from the host to its sites. Remote users are addresses of the `sync.<domain>` component;
 * what is written to them waits in Postgres until the link carries it; what arrives is recorded by id
 * before it is delivered, so it is delivered once.
 */
export function createSyncFeature(ctx: SyncFeatureDeps): Feature {
  const cfg = ctx.config.sync;
  const log = ctx.log.child({ c: 'sync' });
  const store = new SyncStore(ctx.db);
  const domain = ctx.config.xmpp.domain;
  const files = createFileTransfer({
    db: ctx.db,
    dir: ctx.config.files.dir,
    publicUrl: ctx.config.http.publicUrl ?? '',
    limits: ctx.uploadPolicy,
  });
  if (cfg.role === 'off') {
    // The routes exist (and answer 501 SYNC_DISABLED), as BBB's do when it is off.
    const receiver = new Receiver({
      store,
      files,
      component: offline,
      domain,
      componentDomain: cfg.component,
      relayTo: [],
      log,
    });
    return {
      name: 'sync',
      routes: (router) => {
        peerRoutes(router, { store, receiver, files });
        syncAdminRoutes(router, {
          role: 'off',
          store,
          status: () => Promise.reject(new Error('off')),
          publish: (s) => store.publish(s),
        });
      },
    };
  }

  const component = createComponent({
    service: ctx.config.xmpp.componentService,
    domain: cfg.component,
    secret: ctx.config.xmpp.componentSecret!,
    reconnectMaxSeconds: ctx.config.xmpp.reconnectMaxSeconds,
    log,
  });
  const host = cfg.role === 'host';
  const receiver = new Receiver({
    store,
    files,
    component,
    domain,
    componentDomain: cfg.component,
    relayTo: host ? cfg.sites : [],
    log,
  });
  let intervalMs = cfg.intervalSeconds * 1000;
  const applySettings = async (v: VersionedSettings): Promise<void> => {
    const u = v.settings.uploads;
    if (u?.maxBytes !== undefined) ctx.uploadPolicy.maxUploadBytes = u.maxBytes;
    if (u?.allowedTypes) ctx.uploadPolicy.allowedTypes = u.allowedTypes.map((t) => t.toLowerCase());
    if (v.settings.intervalSeconds !== undefined) intervalMs = v.settings.intervalSeconds * 1000;
    await store.applied(v);
    log.info({ version: v.version }, 'site sync: settings from the host applied');
  };
  const link = host
    ? undefined
    : new SiteLink({
        store,
        receiver,
        files,
        hostUrl: cfg.hostUrl!,
        key: cfg.key!,
        site: domain,
        intervalMs: () => intervalMs,
        applySettings,
        log,
      });
  const capture = new Capture({
    store,
    files,
    component,
    domain,
    componentDomain: cfg.component,
    // A site sends everything home (the host relays to its other sites); a host sends to the site named.
    peerFor: (d) => (d === domain ? undefined : host ? (cfg.sites.includes(d) ? d : undefined) : HOST),
    queued: () => link?.kick(),
    log,
  });
  component.onStanza((s) =>
    capture.take(s).catch((err) => log.warn({ err }, 'site sync: a message was not queued')),
  );
  component.onOnline(() => receiver.deliverPending());
  // Delivery the component could not do at once (it was offline) is retried on this beat too.
  let beat: NodeJS.Timeout | undefined;

  const status = async (): Promise<SyncStatus> => ({
    role: cfg.role,
    domain,
    component: cfg.component,
    outbox: await store.countPending(),
    undelivered: await store.countUndelivered(),
    lastContact: host ? null : ((await store.cursor(HOST)).contactedAt?.toISOString() ?? null),
    lastError: link?.lastError ?? null,
    settingsVersion: (await store.settings(host ? 'published' : 'applied')).version,
  });

  return {
    name: 'sync',
    routes: (router) => {
      peerRoutes(router, {
        host: host ? { key: cfg.key!, sites: cfg.sites } : undefined,
        store,
        receiver,
        files,
      });
      syncAdminRoutes(router, { role: cfg.role, store, status, publish: (s) => store.publish(s) });
    },
    async start() {
      if (!host) {
        const applied = await store.settings('applied');
        if (applied.version) await applySettings(applied);
      }
      await component.start();
      beat = setInterval(
        () => void receiver.deliverPending(),
        Math.max(1000, cfg.intervalSeconds * 1000),
      ).unref();
      link?.start();
    },
    async stop() {
      clearInterval(beat);
      await link?.stop();
      await component.stop();
    },
  };
}

/** The component of a deployment with sync off: never online, so nothing is ever delivered through it. */
const offline: Pick<ComponentConnection, 'send' | 'isOnline'> = {
  isOnline: false,
  send: async () => undefined,
};
