import assert from 'node:assert/strict';
import { call } from './http.js';

/**
 * The contact approves the user's subscription request once it has reached them. Approving at once races
 * the request through the server: an approval the server sees first answers nothing (ejabberd drops it),
 * and the contact's presence never reaches the user (a CI failure on ejabberd).
 * `auth`: the contact's Authorization header; `from`: the requesting user's bare JID.
 */
export async function approveOnceRequested(
  gatewayUrl: string,
  streamId: string,
  auth: string,
  from: string,
): Promise<void> {
  const pending = async () =>
    (
      await call<{ requests: { jid: string }[] }>(`${gatewayUrl}/restapi/v1/chat/${streamId}/subscriptions`, {
        auth,
      })
    ).body.requests.map((r) => r.jid);
  let seen = await pending();
  for (let i = 0; i < 200 && !seen.includes(from); i++) {
    await new Promise((r) => setTimeout(r, 50));
    seen = await pending();
  }
  assert.ok(seen.includes(from), `${from}'s subscription request did not reach the contact`);
  const approved = await call(
    `${gatewayUrl}/restapi/v1/chat/${streamId}/contacts/${encodeURIComponent(from)}/subscription`,
    { method: 'POST', auth },
  );
  assert.equal(approved.status, 204, approved.text);
}
