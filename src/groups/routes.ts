import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { callerOf, requireMaster, type AccessDeps } from '../http/access.js';
import { readBody, validate } from '../http/body.js';
import { parseUsername } from '../http/params.js';
import type { GroupService } from './GroupService.js';
import { GroupInput, MemberFields, MemberListInput, SLUG } from './types.js';

const ADMIN = '/restapi/v1/admin/groups';
const MembersQuery = z
  .object({ online: z.enum(['true', 'false']).optional(), site: z.string().regex(SLUG).optional() })
  .strict();

/**
 * Organisation presence (docs/api/groups.md).
 *   GET|PUT|DELETE /restapi/v1/admin/groups[/{group}]          organisations and their sites (master secret)
 *   PUT            /restapi/v1/admin/groups/{group}/members     replace the member list (master secret)
 *   PUT|DELETE     /restapi/v1/admin/groups/{group}/members/{u} one member and their profile (master secret)
 *   GET            /restapi/v1/groups/{group}/members?online=&site=   the master secret or a member
 */
export function groupRoutes(router: Router, access: AccessDeps, groups: GroupService): void {
  router.get(ADMIN, async (ctx) => {
    requireMaster(ctx);
    ctx.body = { groups: await groups.list() };
  });

  router.get(`${ADMIN}/:group`, async (ctx) => {
    requireMaster(ctx);
    ctx.body = await groups.get(groupId(ctx));
  });

  router.put(`${ADMIN}/:group`, async (ctx) => {
    requireMaster(ctx);
    const { group, created } = await groups.put(groupId(ctx), validate(GroupInput, json(ctx)));
    ctx.status = created ? 201 : 200;
    ctx.body = group;
  });

  router.delete(`${ADMIN}/:group`, async (ctx) => {
    requireMaster(ctx);
    await groups.remove(groupId(ctx));
    ctx.status = 204;
  });

  router.put(`${ADMIN}/:group/members`, async (ctx) => {
    requireMaster(ctx);
    const id = groupId(ctx);
    const input = validate(MemberListInput, json(ctx));
    const members = input.members.map((m) => ({ ...m, username: parseUsername(m.username) }));
    ctx.body = { group: id, members: await groups.replaceMembers(id, members) };
  });

  router.put(`${ADMIN}/:group/members/:username`, async (ctx) => {
    requireMaster(ctx);
    const fields = validate(MemberFields, json(ctx, true));
    const { member, created } = await groups.putMember(
      groupId(ctx),
      parseUsername(ctx.params.username!),
      fields,
    );
    ctx.status = created ? 201 : 200;
    ctx.body = member;
  });

  router.delete(`${ADMIN}/:group/members/:username`, async (ctx) => {
    requireMaster(ctx);
    await groups.removeMember(groupId(ctx), parseUsername(ctx.params.username!));
    ctx.status = 204;
  });

  router.get('/restapi/v1/groups/:group/members', async (ctx) => {
    const id = groupId(ctx);
    await requireReader(ctx, access, groups, id);
    const q = validate(MembersQuery, ctx.query, 'query');
    ctx.body = {
      group: id,
      members: await groups.members(id, { online: q.online === 'true', site: q.site }),
    };
  });
}

function groupId(ctx: Context): string {
  const id = ctx.params.group!;
  if (!SLUG.test(id)) throw new BridgeError('NOT_FOUND', `no group "${id.slice(0, 80)}"`);
  return id;
}

function json(ctx: Context, emptyOk = false): unknown {
  const body = readBody(ctx);
  if (body.kind === 'json') return body.value;
  if (body.kind === 'none' && emptyOk) return {};
  throw new BridgeError('VALIDATION_FAILED', 'send a JSON object', {
    errors: [{ path: 'body', message: 'expected a JSON object' }],
  });
}

/** The master secret, or a member of the group (Basic credentials or a session token): members see each other. */
async function requireReader(
  ctx: Context,
  access: AccessDeps,
  groups: GroupService,
  id: string,
): Promise<void> {
  const caller = callerOf(ctx);
  let username: string;
  switch (caller.kind) {
    case 'master':
      return;
    case 'anonymous':
      throw new BridgeError(
        'UNAUTHENTICATED',
        'send the master secret, a session token or Basic credentials',
      );
    case 'basic':
      username = parseUsername(caller.username);
      if (!(await access.verifier.verify(username, caller.password)))
        throw new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password');
      break;
    case 'token': {
      const owner = await access.sessions.tokenOwner(caller);
      if (!owner || owner.ended) throw new BridgeError('BAD_CREDENTIALS', 'unknown or expired session token');
      username = owner.username;
    }
  }
  if (!groups.isMember(id, username))
    throw new BridgeError('FORBIDDEN', `${username} is not a member of "${id}"`);
}
