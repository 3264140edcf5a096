import type { ChatStore } from './store';

/** Calls beyond ringing: start and end buttons, the calls in progress, and the auto-answer countdown. */

export function CallButtons({ store, peer, name }: { store: ChatStore; peer: string; name: string }) {
  const active = store.calls.with(peer);
  if (active)
    return (
      <button type="button" class="end-call" onClick={() => void store.calls.end(active.callId)}>
        End call
      </button>
    );
  return (
    <span class="call-buttons">
      <button
        type="button"
        aria-label={`Video call ${name}`}
        onClick={() => void store.calls.start(peer, { audioOnly: false })}
      >
        Video call
      </button>
      <button
        type="button"
        aria-label={`Audio call ${name}`}
        onClick={() => void store.calls.start(peer, { audioOnly: true })}
      >
        Audio call
      </button>
    </span>
  );
}

const STATE_TEXT = {
  proposed: (n: string) => `Calling ${n}…`,
  ringing: (n: string) => `${n}'s screen is ringing…`,
  accepted: (n: string) => `In call with ${n}`,
};

/** One banner per call in progress, with its End button (in the banner area: visible on a phone too). */
export function ActiveCalls({ store }: { store: ChatStore }) {
  return (
    <>
      {store.calls.active.map((c) => {
        const name = store.displayName(c.peer);
        return (
          <div
            key={c.callId}
            class={`banner active-call call-${c.state}`}
            role="status"
            aria-label={`Call with ${name}`}
          >
            <span class="banner-text" dir="auto">
              {STATE_TEXT[c.state](name)}
              {c.audioOnly ? ' (audio)' : ' (video)'}
            </span>
            <span class="banner-actions">
              <button type="button" class="decline" onClick={() => void store.calls.end(c.callId)}>
                End call
              </button>
            </span>
          </div>
        );
      })}
    </>
  );
}

/** The seed's autoAccept/acceptAfter: a visible countdown that answers by itself unless cancelled. */
export function AutoAnswer({ store, callId }: { store: ChatStore; callId: string }) {
  const cd = store.calls.countdowns.get(callId);
  if (!cd) return null;
  return (
    <span class="auto-answer" role="timer" aria-live="polite">
      Answering automatically in <strong class="countdown">{cd.remaining}</strong> s{' '}
      <button type="button" class="link" onClick={() => store.calls.cancelCountdown(callId)}>
        Cancel auto-answer
      </button>
    </span>
  );
}
