import { z } from 'zod';
import { parseHistoryDate } from '../chat/index.js';
import { parseEventId, parseUsername } from '../http/params.js';
import { parseJid } from '../xmpp/jid.js';
import type { AdminQuery } from '../messages/types.js';

/** Query parameters of the admin message views (and the monitor's filters), checked at the edge. */
export const MessageParams = z
  .object({
    user: z.string().min(1).max(3071).optional(),
    peer: z.string().min(1).max(3071).optional(),
    room: z.string().min(1).max(3071).optional(),
    hasAttachments: z.enum(['true', 'false']).optional(),
    start: z.string().min(1).optional(),
    end: z.string().min(1).optional(),
    before: z.string().optional(),
    after: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(300).default(100),
  })
  .strict();

export const ExportParams = MessageParams.omit({ before: true, after: true, limit: true })
  .extend({
    format: z.enum(['json', 'csv']).default('json'),
    limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  })
  .strict();

export const bool = (v: 'true' | 'false' | undefined): boolean | undefined =>
  v === undefined ? undefined : v === 'true';

/** A user named by username or bare JID; rooms may be named without their MUC service. */
export function toAdminQuery(
  q: z.infer<typeof MessageParams>,
  domain: string,
  mucService: string,
): AdminQuery {
  return {
    user: q.user ? userJid(q.user, domain) : undefined,
    peer: q.peer ? parseJid(q.peer, domain, 'peer JID').bare : undefined,
    room: q.room
      ? parseJid(q.room.includes('@') ? q.room : `${q.room}@${mucService}`, domain, 'room JID').bare
      : undefined,
    hasAttachments: bool(q.hasAttachments),
    start: q.start ? parseHistoryDate(q.start, 'start', 'start') : undefined,
    end: q.end ? parseHistoryDate(q.end, 'end', 'end') : undefined,
    before: parseEventId(q.before),
    after: parseEventId(q.after),
    limit: q.limit,
  };
}

export function userJid(raw: string, domain: string): string {
  return raw.includes('@') ? parseJid(raw, domain, 'user JID').bare : `${parseUsername(raw)}@${domain}`;
}
