import { createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import type { Feature, GatewayContext } from '../feature.js';
import { SecretBox } from '../crypto/SecretBox.js';
import { resolveSecret } from '../secretFile.js';
import { CallbackDispatcher } from '../callbacks/CallbackDispatcher.js';
import { CallbackOutbox } from '../callbacks/CallbackOutbox.js';
import { callbackRoutes } from '../callbacks/callbackRoutes.js';
import { AddressPolicy } from '../callbacks/ssrf.js';
import { createComponent } from '../xmpp/component/createComponent.js';
import { BbbBridge } from './BbbBridge.js';
import { BbbLink } from './BbbLink.js';
import { SIGNERS } from './bbbCallbacks.js';
import { Forwarder } from './Forwarder.js';
import { MeetingRegistry } from './MeetingRegistry.js';
import { MeetingStore } from './MeetingStore.js';
import { RoomMirror } from './RoomMirror.js';
import { v1Routes } from './api/v1Routes.js';
import { v2Routes } from './api/v2Routes.js';

/**
 * BigBlueButton chat forwarding: the BBB-Chat APIs (v1 and v2), the link to BBB's Redis, the signed
 * callback outbox, and each meeting's XMPP room through the bbb.<domain> component. Off (its API answers
 * 501) unless BBB_SECRET is set; the room mirroring also needs XMPP_COMPONENT_SECRET. Nothing connects
 * before start().
 */
export type BbbFeatureDeps = Pick<GatewayContext, 'config' | 'log' | 'db'>;

export function createBbbFeature(ctx: BbbFeatureDeps): Feature {
  const { config } = ctx;
  const log = ctx.log.child({ c: 'bbb' });
  const enabled = !!config.bbb.secret && !!config.redis.url;
  let box: SecretBox | undefined; // derived from the master secret in start()
  const secrets = { seal: (s: string) => box!.seal(s), open: (s: string) => box!.open(s) };

  const policy = new AddressPolicy(config.callbacks.allowHosts);
  const store = new MeetingStore(ctx.db);
  const registry = new MeetingRegistry();
  const outbox = new CallbackOutbox({
    db: ctx.db,
    horizonSeconds: config.callbacks.retryHorizonSeconds,
    instanceId: config.instanceId ?? hostname(),
  });
  const dispatcher = new CallbackDispatcher({
    outbox,
    signers: SIGNERS,
    openSecret: secrets.open,
    policy,
    log: log.child({ c: 'callbacks' }),
    backoffMaxSeconds: config.callbacks.backoffMaxSeconds,
  });
  const link = enabled
    ? new BbbLink({
        url: config.redis.url!,
        log,
        onEvent: (name, msg): Promise<void> => bridge.handle(name, msg),
      })
    : undefined;
  const forwarder = new Forwarder({
    store,
    outbox,
    link: { publish: (m): Promise<void> => link!.publish(m) },
    nudge: () => dispatcher.nudge(),
    version: config.bbb.version,
  });

  const x = config.xmpp;
  const comp =
    enabled && x.componentSecret
      ? createComponent({
          service: x.componentService,
          domain: `bbb.${x.domain}`,
          secret: x.componentSecret,
          reconnectMaxSeconds: x.reconnectMaxSeconds,
          log,
        })
      : undefined;
  const mirror =
    comp &&
    new RoomMirror({
      comp,
      domain: comp.domain,
      log,
      closeRooms: config.bbb.closeRooms,
      meetingForRoom: (room) => registry.byRoom(room),
      onMessage: (m, msg): Promise<void> => bridge.fromRoom(m, msg),
    });
  const bridge = new BbbBridge({
    store,
    registry,
    forwarder,
    box: secrets,
    policy,
    log,
    mirror,
    roomName: config.bbb.roomName,
    mucService: x.mucService,
  });
  comp?.onOnline(async () => {
    for (const m of registry.all()) await mirror!.restore(m, await store.present(m.id));
  });

  const auth = {
    secret: config.bbb.secret,
    windowSeconds: config.bbb.checksumWindowSeconds,
    firstUse: (c: string, ttl: number) => link!.firstUse(c, ttl),
    log,
  };
  return {
    name: 'bbb',
    routes: (router) => {
      v1Routes(router, { bridge, auth });
      v2Routes(router, { bridge, auth });
      callbackRoutes(router, { outbox, nudge: () => dispatcher.nudge() });
    },
    async start() {
      if (!enabled) return;
      const { secret } = await resolveSecret(config.secret, config.dataDir);
      // A key of its own: account passwords and callback secrets never share one.
      box = new SecretBox(
        createHmac('sha256', secret).update('parley/callback-secrets/v1').digest('base64url'),
      );
      const live = await bridge.load();
      await link!.start();
      await comp?.start();
      await dispatcher.start();
      log.info(
        { chats: live.length, version: config.bbb.version, rooms: !!comp },
        'BigBlueButton bridge started',
      );
    },
    async stop() {
      if (!enabled) return;
      await link!.stop();
      await dispatcher.stop();
      await comp?.stop();
    },
  };
}
