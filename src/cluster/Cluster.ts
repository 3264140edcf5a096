import type { Context, Next } from 'koa';
import type { Log } from '../log.js';
import type { Queryable } from '../store/db.js';
import type { EventHub } from '../sse/EventHub.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import { createRedisEventBus, type ClusterCommand, type EventBus } from './EventBus.js';
import { forwardTo, verifyForwarded, wasForwarded } from './forward.js';
import { InstanceRegistry, type InstanceInfo } from './InstanceRegistry.js';
import { withClientIp } from '../limits/clientIp.js';

/**
 * Several gateways behind one load balancer, sharing PostgreSQL and Redis:
 * - events: every instance publishes its users' events on Redis; each delivers them to its own streams,
 *   so an event stream works on any instance;
 * - commands: a REST call that needs a user's XMPP session is passed to the instance holding it
 *   (one XMPP session per user across the cluster), and a login for a user who has one goes there too;
 * - liveness: instances beat in the `instances` table; the sessions of an instance that stopped beating are
 *   adopted by the next one to beat (logged in again there, same stream ids and tokens), or end without restore;
 * - components (workgroup.<domain>, bbb.<domain>): the XMPP server accepts one connection per component,
 *   so one instance holds each and the others retry as standbys (src/xmpp/component/createComponent.ts).
 * With one instance this is a heartbeat and nothing else.
 */
const STREAM_PATH = /^\/restapi\/v1\/(?:chat|admin\/sessions)\/(ps_[A-Za-z0-9_-]{16})(?:\/|$)/;
const LOGIN_PATH = /^\/restapi\/v1\/chat\/([^/]+)\/login$/;
const EVENTS_PATH = /^\/restapi\/v1\/chat\/[^/]+\/events$/;

/** What features may ask of the other instances (absent, or a no-op, with a single instance). */
export interface ClusterPeers {
  /** Ends `username`'s session on whichever other instance holds it (this instance ends its own). */
  logoffElsewhere(username: string, reason: string): void;
  /** Tells the other instances that `username`'s moderation blocks changed (their in-memory ACL reloads). */
  blocksChangedElsewhere(username: string): void;
  /** Whether another live instance holds a session of `username` (the shared session registry says). */
  hasSessionElsewhere(username: string): Promise<boolean>;
}

export class Cluster implements ClusterPeers {
  readonly registry: InstanceRegistry;
  readonly #bus: EventBus | undefined;

  constructor(
    private readonly deps: {
      db: Queryable;
      self: InstanceInfo;
      redisUrl?: string;
      channel: string;
      log: Log;
      /** shared by all instances: signs the calls one forwards to another (PARLEY_CLUSTER_KEY) */
      clusterKey: string;
      /** adopts the sessions of instances that went away (SessionManager.adoptOrphans); without it they end */
      adopt?: (staleSeconds: number) => Promise<unknown>;
      /** another instance changed a user's blocks (AccountPolicy.invalidate) */
      onBlocksChanged?: (username: string) => void;
    },
  ) {
    const log = deps.log.child({ c: 'cluster' });
    this.registry = new InstanceRegistry({ db: deps.db, self: deps.self, log, adopt: deps.adopt });
    this.#bus = deps.redisUrl
      ? createRedisEventBus({ url: deps.redisUrl, channel: deps.channel, instanceId: deps.self.id, log })
      : undefined;
  }

  async start(hub: EventHub, sessions?: Pick<SessionManager, 'byUser' | 'logoff'>): Promise<void> {
    await this.registry.start();
    if (!this.#bus) return;
    const bus = this.#bus;
    hub.onPublished((username, event) => bus.publish(username, event));
    await bus.start(
      (username, event) => hub.deliverLocal(username, event),
      (command) => this.#onCommand(command, sessions),
    );
  }

  logoffElsewhere(username: string, reason: string): void {
    this.#bus?.command({ kind: 'logoff', username, reason });
  }

  async hasSessionElsewhere(username: string): Promise<boolean> {
    return (await this.registry.ownerOfUser(username)) !== undefined;
  }

  blocksChangedElsewhere(username: string): void {
    this.#bus?.command({ kind: 'blocks-changed', username });
  }

  #onCommand(c: ClusterCommand, sessions?: Pick<SessionManager, 'byUser' | 'logoff'>): void {
    if (c.kind === 'blocks-changed') return this.deps.onBlocksChanged?.(c.username);
    if (!sessions) return;
    const session = sessions.byUser(c.username);
    if (!session) return;
    this.deps.log.info(
      { username: c.username, reason: c.reason },
      'ending a session at another instance’s request',
    );
    sessions
      .logoff(session.streamId, c.reason)
      .catch((err: unknown) => this.deps.log.warn({ err, username: c.username }, 'cluster logoff failed'));
  }

  /**
   * Koa middleware: passes calls for sessions held elsewhere to their instance, and admits calls passed
   * here only with a valid cluster signature (they are served as from the client the peer saw).
   */
  forwarding(sessions: SessionManager) {
    return async (ctx: Context, next: Next): Promise<void> => {
      if (wasForwarded(ctx)) {
        ctx.state.clientAddress = verifyForwarded(ctx, this.deps.clusterKey);
        return withClientIp(ctx.state.clientAddress as string, next);
      }
      if (EVENTS_PATH.test(ctx.path)) return next();
      const stream = STREAM_PATH.exec(ctx.path)?.[1];
      if (stream && !sessions.get(stream)) {
        const owner = await this.registry.ownerOfStream(stream);
        if (owner) return this.#forward(ctx, owner);
      }
      const login = LOGIN_PATH.exec(ctx.path)?.[1];
      if (login && ctx.method === 'POST' && !sessions.byUser(login.toLowerCase())) {
        const owner = await this.registry.ownerOfUser(login.toLowerCase());
        if (owner) return this.#forward(ctx, owner);
      }
      return next();
    };
  }

  async #forward(ctx: Context, owner: InstanceInfo): Promise<void> {
    (ctx as Context & { _matchedRoute?: string })._matchedRoute = '(forwarded)'; // the HTTP metrics' route label
    await forwardTo(ctx, owner, { id: this.deps.self.id, clusterKey: this.deps.clusterKey });
  }

  async stop(): Promise<void> {
    await this.#bus?.stop();
    await this.registry.stop();
  }
}
