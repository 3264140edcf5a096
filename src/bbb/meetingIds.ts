import { createHash } from 'node:crypto';

/**
 * BBB meeting ids. Redis events carry the internal id, `<sha1(externalId)>-<createdMs>` (bbb-web's
 * ParamsProcessorUtil; reference §2.6). API callers may name a meeting by either id; an external id is
 * bound to its internal one when the first event whose sha1 prefix matches arrives, so Parley needs no
 * access to BBB's HTTP API (BBB-Chat called getMeetingInfo for this).
 */
const INTERNAL = /^[0-9a-f]{40}-\d{10,}$/;

export const looksInternal = (id: string): boolean => INTERNAL.test(id);

/** The prefix every internal id of this external id starts with. */
export const internalPrefixOf = (externalId: string): string =>
  createHash('sha1').update(externalId, 'utf8').digest('hex') + '-';

/**
 * The meeting's room name: `template` with `{meeting}` replaced by the meeting id, made a safe JID
 * localpart (lower case, letters, digits, `._-`). When that changed the id, a short hash of the
 * original keeps two ids that differ only in the dropped characters apart.
 */
export function roomLocalpart(template: string, meetingId: string): string {
  const raw = template.replace('{meeting}', meetingId).toLowerCase();
  let safe = raw
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 180);
  if (safe !== raw || !safe)
    safe = `${safe || 'meeting'}-${createHash('sha1').update(meetingId, 'utf8').digest('hex').slice(0, 8)}`;
  return safe;
}

/** A BBB user id as the local part of its puppet JID (`w_k3l9xq2mzp7a@bbb.<domain>`). */
export function puppetLocalpart(userId: string): string {
  const safe = userId.toLowerCase().replace(/[^a-z0-9._-]/g, '_');
  return safe === BRIDGE_LOCALPART ? `u_${safe}` : safe;
}

/** The component's own occupant in every meeting room: it creates the room and listens to it. */
export const BRIDGE_LOCALPART = 'bridge';
