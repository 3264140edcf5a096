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
  start(onRemote: (username: string, event: DeliveredEvent) => void): Promise<void>;
  stop(): Promise<void>;
}

interface Envelope {
  from: string;
  user: string;
  event: DeliveredEvent;
}

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
  return {
    publish(username, event) {
      if (!pub.isReady) return; // live fan-out is best effort; durable events replay from Postgres
      const msg: Envelope = { from: opts.instanceId, user: username, event };
      pub
        .publish(opts.channel, JSON.stringify(msg))
        .catch((err: unknown) => log.debug({ err }, 'event bus publish failed'));
    },
    async start(onRemote) {
      await Promise.all([connectSoon(pub, 3000, log), connectSoon(sub, 3000, log)]);
      await sub.subscribe(opts.channel, (raw: string) => {
        let msg: Envelope;
        try {
          msg = JSON.parse(raw) as Envelope;
        } catch {
          return;
        }
        if (msg.from === opts.instanceId || typeof msg.user !== 'string' || !msg.event?.name) return;
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
