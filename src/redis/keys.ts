/**
 * Every Redis channel and key Parley touches, named once.
 * BBB's channels are BigBlueButton's own (akka-apps' FromAkkaAppsMsgSenderActor, reference §2.1) and keep
 * their exact names; Parley's own keys live under a versioned prefix so a future format can coexist.
 */
export const BBB_CHANNELS = {
  /** akka-apps → world: chat broadcasts, joins, leaves, meeting end (BBB 2.x and 3.x alike). */
  fromAkkaApps: 'from-akka-apps-redis-channel',
  /** clients and bbb-web → akka-apps: where Parley posts into a meeting, and where the client's ClearPublicChatHistoryPubMsg travels. */
  toAkkaApps: 'to-akka-apps-redis-channel',
} as const;

const PREFIX = 'parley:v1:';

export const REDIS_KEYS = {
  /** Pub/sub channel of the cluster event bus: every instance's users' events (src/cluster/EventBus.ts). */
  events: `${PREFIX}events`,
  /** One BBB API checksum, remembered for as long as it could still verify (so it is accepted once). */
  bbbChecksumUsed: (digest: string): string => `${PREFIX}bbb:checksum:${digest}`,
  /** Prefix of one rate limiter's counters (src/limits/limiter.ts); `scope` is the deployment (its database). */
  limit: (scope: string, name: string): string => `${PREFIX}limit:${scope}:${name}`,
} as const;
