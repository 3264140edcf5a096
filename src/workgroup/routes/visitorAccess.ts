import type { Context } from 'koa';
import { BridgeError } from '../../errors/BridgeError.js';
import { callerOf } from '../../http/access.js';
import type { AskService } from '../AskService.js';
import type { RequestRow } from '../RequestStore.js';

/** ofchat's userID: the visitor's name in the room (1–64 letters, digits or . _ - + @); `admin` is the admin path. */
export const VISITOR_ID = /^[\p{L}\p{N}._+@-]{1,64}$/u;

export function parseVisitorId(raw: string): string {
  if (!VISITOR_ID.test(raw))
    throw new BridgeError('BAD_REQUEST', `"${raw.slice(0, 80)}" is not a visitor userID`);
  return raw;
}

/**
 * The request a visitor route acts on: the visitor token's own request (403 for another userID),
 * or with the master secret the visitor name's newest request. `?token=` only on the event stream.
 */
export async function visitorRequest(
  ctx: Context,
  ask: AskService,
  rawUserId: string,
  queryToken = false,
): Promise<RequestRow> {
  const userId = parseVisitorId(rawUserId);
  const caller = callerOf(ctx);
  if (caller.kind === 'master') {
    const r = await ask.latestOf(userId);
    if (!r) throw new BridgeError('NOT_FOUND', `no request of visitor ${userId}`);
    return r;
  }
  if (caller.kind === 'basic')
    throw new BridgeError(
      'FORBIDDEN',
      'visitor routes take the visitor token returned by POST /restapi/v1/ask',
    );
  const q =
    queryToken && typeof ctx.query.token === 'string' && ctx.query.token ? ctx.query.token : undefined;
  const token = caller.kind === 'token' ? caller.token : q;
  if (!token)
    throw new BridgeError('UNAUTHENTICATED', 'send the visitor token returned by POST /restapi/v1/ask');
  const r = await ask.byToken(token);
  if (!r) throw new BridgeError('BAD_CREDENTIALS', 'unknown visitor token');
  if (r.userId !== userId) throw new BridgeError('FORBIDDEN', 'this token belongs to another visitor');
  return r;
}
