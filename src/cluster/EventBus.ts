import type { Log } from '../log.js';
import type { DeliveredEvent } from '../sse/events.js';
import { closeQuietly, connectSoon, createRedisClient, type RedisClient } from '../redis/createRedis.js';

/**
 * Carries users' events between gateway instances (Redis pub/sub), so an SSE stream gets its user's
 * events whichever instance holds the user's XMPP session. Each instance delivers its own events locally
 * and ignores its own echoes. Pub/sub may drop messages while Redis reconnects: durable events are
 * in Postgres, so a stream that reconnects with Last-Event-ID still gets them.
 */
export interface EventBus {
  publish(username: string, event: DeliveredEvent): void;
  /** To every other instance, on the same channel and as best effort as events. */
  command(command: ClusterCommand): void;
  start(
    onRemote: (username: string, event: DeliveredEvent) => void,
    onCommand?: (command: ClusterCommand) => void,
  ): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Something each instance must do for the cluster, not an event of a user's: end a user's session there,
 * or forget what it holds in memory of a user's moderation blocks (mute, disable) and read them again.
 */
export type ClusterCommand =
  { kind: 'logoff'; username: string; reason: string } | { kind: 'blocks-changed'; username: string };

type Envelope = { from: string } & (
  { user: string; event: DeliveredEvent; command?: undefined } | { command: ClusterCommand; user?: undefined }
);

const isCommand = (c: unknown): c is ClusterCommand => {
  const x = c as { kind?: unknown; username?: unknown; reason?: unknown } | null;
  if (typeof x?.username !== 'string') return false;
  return (x.kind === 'logoff' && typeof x.reason === 'string') || x.kind === 'blocks-changed';
};

export function createRedisEventBus(opts: {
  url: string;
  channel: string;
  instanceId: string;
  log: Log;
}): EventBus {
  const log = opts.log.child({ c: 'event-bus' });
  const pub: RedisClient = createRedisClient(opts.url, {
    log,
    name: `parley-bus-pub-${opts.instanceId}`,
    failFast: true,
  });
  const sub: RedisClient = pub.duplicate();
  sub.on('error', (err: unknown) => log.debug({ err }, 'event bus subscriber error'));
  const send = (msg: Envelope): void => {
    if (!pub.isReady) return; // live fan-out is best effort; durable events replay from Postgres
    pub
      .publish(opts.channel, JSON.stringify(msg))
      .catch((err: unknown) => log.debug({ err }, 'event bus publish failed'));
  };
  return {
    publish(username, event) {
      send({ from: opts.instanceId, user: username, event });
    },
    command(command) {
      send({ from: opts.instanceId, command });
    },
    async start(onRemote, onCommand) {
      await Promise.all([connectSoon(pub, 3000, log), connectSoon(sub, 3000, log)]);
      await sub.subscribe(opts.channel, (raw: string) => {
        let msg: Envelope;
        try {
          msg = JSON.parse(raw) as Envelope;
        } catch {
          return;
        }
        if (msg.from === opts.instanceId) return;
        if (msg.command !== undefined) {
          if (isCommand(msg.command)) onCommand?.(msg.command);
          return;
        }
        if (typeof msg.user !== 'string' || !msg.event?.name) return;
        onRemote(msg.user, msg.event);
      });
    },
    async stop() {
      await sub.unsubscribe(opts.channel).catch(() => undefined);
      closeQuietly(sub);
      closeQuietly(pub);
    },
  };
}
