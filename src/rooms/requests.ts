import type { Context } from 'koa';
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { readBody, validate } from '../http/body.js';
import { AFFILIATIONS, ROLES } from './moderation.js';
import type { MessageInput } from './RoomSender.js';
import { attachmentIdsOf } from '../attachments/index.js';

/** Request parsing for the room routes: query parameters, JSON bodies (zod, unknown fields refused). */

export function query(ctx: Context, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = ctx.query[name];
    const s = Array.isArray(v) ? v[0] : v;
    if (s !== undefined && s !== '') return s;
  }
  return undefined;
}

export function flag(ctx: Context, name: string, fallback: boolean): boolean {
  const v = query(ctx, name);
  if (v === undefined) return fallback;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new BridgeError('BAD_REQUEST', `?${name}= must be true or false, not "${v.slice(0, 40)}"`);
}

export function integer(ctx: Context, name: string, min: number, max: number, fallback: number): number {
  const v = query(ctx, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new BridgeError('BAD_REQUEST', `?${name}= must be a whole number from ${min} to ${max}`);
  return n;
}

export function cursor(ctx: Context, name: string): string | undefined {
  const v = query(ctx, name);
  if (v !== undefined && !/^\d{1,18}$/.test(v))
    throw new BridgeError('BAD_REQUEST', `?${name}= must be a message id (an event id) from an earlier page`);
  return v;
}

const text = (max: number) => z.string().max(max);

export const JoinBody = z
  .object({
    nick: text(1023).optional(),
    password: text(1024).optional(),
    history: z.number().int().min(0).max(1000).optional(),
    persistent: z.boolean().optional(),
    public: z.boolean().optional(),
    membersOnly: z.boolean().optional(),
    moderated: z.boolean().optional(),
    name: text(256).optional(),
    description: text(1024).optional(),
    subject: text(1024).optional(),
  })
  .strict();
export type JoinBody = z.infer<typeof JoinBody>;

export function readJoinBody(ctx: Context): JoinBody {
  const body = readBody(ctx);
  if (body.kind === 'none') return {};
  if (body.kind === 'text')
    throw new BridgeError('UNSUPPORTED_MEDIA_TYPE', 'send the room options as application/json');
  return validate(JoinBody, body.value);
}

/** ofchat's post: a text body, or JSON whose `body` is the text and which travels whole as `data`. */
export type PostInput = { kind: 'message'; input: MessageInput } | { kind: 'subject'; subject: string };

const PostJson = z
  .object({ body: z.string().optional(), subject: z.string().max(1024).optional() })
  .passthrough();

export function readPost(ctx: Context, allowSubject: boolean): PostInput {
  const body = readBody(ctx);
  if (body.kind === 'none')
    throw new BridgeError('BAD_REQUEST', 'send the message as text/plain, or JSON with a "body"');
  if (body.kind === 'text') return { kind: 'message', input: { body: body.text } };
  if (typeof body.value !== 'object' || body.value === null || Array.isArray(body.value)) {
    throw new BridgeError('VALIDATION_FAILED', 'body: the JSON must be an object', {
      errors: [{ path: 'body', message: 'expected an object' }],
    });
  }
  const json = validate(PostJson, body.value);
  if (allowSubject && json.subject !== undefined && json.body === undefined)
    return { kind: 'subject', subject: json.subject };
  // Attachments go with room posts (allowSubject), not with private messages to an occupant.
  const fileIds = allowSubject ? attachmentIdsOf(body.value) : undefined;
  if (json.body === undefined && fileIds) return { kind: 'message', input: { data: body.value, fileIds } };
  if (json.body === undefined) {
    throw new BridgeError(
      'VALIDATION_FAILED',
      `body.body: required${allowSubject ? ' (or "subject" alone to change the subject)' : ''}`,
      { errors: [{ path: 'body.body', message: 'required' }] },
    );
  }
  return {
    kind: 'message',
    input: {
      body: json.body,
      data: body.value,
      ...(fileIds ? { fileIds } : {}),
      ...(allowSubject && json.subject !== undefined ? { subject: json.subject } : {}),
    },
  };
}

const Reason = text(1024).optional();
export const InviteBody = z
  .object({ reason: Reason, password: text(1024).optional(), direct: z.boolean().optional() })
  .strict();
export const AffiliationBody = z.object({ affiliation: z.enum(AFFILIATIONS), reason: Reason }).strict();
export const RoleBody = z.object({ role: z.enum(ROLES), reason: Reason }).strict();

/** A text body is the invitation's reason (ofchat); JSON gives reason, password and direct. */
export function readInvite(ctx: Context): z.infer<typeof InviteBody> {
  const body = readBody(ctx);
  if (body.kind === 'none') return {};
  if (body.kind === 'text') return body.text ? { reason: body.text } : {};
  return validate(InviteBody, body.value);
}

export function readJson<T>(ctx: Context, schema: z.ZodType<T>): T {
  const body = readBody(ctx);
  if (body.kind !== 'json') throw new BridgeError('BAD_REQUEST', 'send an application/json body');
  return validate(schema, body.value);
}
