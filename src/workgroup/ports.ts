import type { Log } from '../log.js';
import type { ComponentConnection } from '../xmpp/component/createComponent.js';
import type { ChatRooms } from './ChatRooms.js';
import type { DispatchPorts } from './routing.js';
import type { QueueNotifier } from './QueueNotifier.js';
import { offerIq, revokeIq } from './xep0142.js';

/** An agent that neither acks nor refuses an offer IQ within this long is treated as gone. */
const OFFER_ACK_TIMEOUT_MS = 10_000;

/** The dispatcher's outside world: offers and revocations as XEP-0142 IQs, notices, rooms. */
export function wirePorts(d: {
  component: ComponentConnection;
  notifier: QueueNotifier;
  rooms: ChatRooms;
  serviceDomain: string;
  log: Log;
  /** false until this instance has recovered what a previous holder of the component left */
  ready: () => boolean;
}): DispatchPorts {
  const wgJid = (workgroup: string): string => `${workgroup}@${d.serviceDomain}`;
  return {
    online: () => d.component.isOnline && d.ready(),
    async sendOffer(offer, request, w) {
      await d.component.iq(
        offerIq(wgJid(offer.workgroup), offer.agentFull, {
          offerId: offer.id,
          requestId: request.id,
          userJid: request.userJid,
          timeoutSeconds: w.offerTimeoutMs / 1000,
          metadata: {
            username: request.userId,
            ...(request.email ? { email: request.email } : {}),
            question: request.question ?? '',
            ...request.metadata,
          },
        }),
        Math.min(OFFER_ACK_TIMEOUT_MS, Math.max(1000, w.offerTimeoutMs)),
        'offer',
      );
    },
    async sendRevoke(offer, request, reason) {
      await d.component
        .iq(
          revokeIq(wgJid(offer.workgroup), offer.agentFull, {
            offerId: offer.id,
            userJid: request.userJid,
            reason,
          }),
          5000,
          'offer-revoke',
        )
        .catch((err) => d.log.debug({ err, offerId: offer.id }, 'revoke not acknowledged'));
    },
    departed: (r, reason, detail) => d.notifier.departed(r, reason, detail),
    queueChanged: (workgroup) => d.notifier.queueChanged(workgroup),
    openRoom: (r, w) => d.rooms.open(r, w),
    invite: (r, offer, w) => d.rooms.inviteBoth(r, offer, w),
    closeRoom: (room) => d.rooms.close(room),
  };
}
