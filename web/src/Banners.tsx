import type { ChatStore } from './store';
import { ActiveCalls, AutoAnswer } from './CallViews';

/**
 * What rings, in one area above the app: expert-queue offers, then incoming calls, stacked in a column (one
 * area, so two at once never overlap) and in the page flow (so they push the app down instead of hiding it).
 */
export function Banners({ store }: { store: ChatStore }) {
  const { offers, calls } = store.alerts;
  if (offers.length + calls.length + store.calls.active.length === 0) return null;
  return (
    <div class="banners" role="region" aria-label="Incoming">
      {offers.map((o) => (
        <div
          key={o.offerId}
          class="banner offer"
          role="alertdialog"
          aria-label={`Offer from ${o.workgroupName}`}
        >
          <span class="banner-text" dir="auto">
            {o.workgroupName}: {o.visitor} asks “{o.question}”
          </span>
          <span class="banner-actions">
            <button type="button" class="accept" onClick={() => void store.alerts.answerOffer(o, true)}>
              Accept
            </button>
            <button type="button" class="decline" onClick={() => void store.alerts.answerOffer(o, false)}>
              Reject
            </button>
          </span>
        </div>
      ))}
      {calls.map((c) => (
        <div
          key={c.callId}
          class="banner call"
          role="alertdialog"
          aria-label={`Incoming call from ${store.displayName(c.peer)}`}
        >
          <span class="banner-text" dir="auto">
            {store.displayName(c.peer)} is calling{c.audioOnly ? ' (audio)' : ' (video)'}…
          </span>
          <AutoAnswer store={store} callId={c.callId} />
          <span class="banner-actions">
            <button type="button" class="accept" onClick={() => void store.alerts.answerCall(c, true)}>
              Accept
            </button>
            <button type="button" class="decline" onClick={() => void store.alerts.answerCall(c, false)}>
              Decline
            </button>
          </span>
        </div>
      ))}
      <ActiveCalls store={store} />
    </div>
  );
}
