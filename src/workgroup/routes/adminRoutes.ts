import type Router from '@koa/router';
import { BridgeError } from '../../errors/BridgeError.js';
import { requireMaster } from '../../http/access.js';
import { readBody, validate } from '../../http/body.js';
import type { WorkgroupAdmin } from '../WorkgroupAdmin.js';
import { CreateWorkgroupInput, UpdateWorkgroupInput } from '../settings.js';

const BASE = '/restapi/v1/ask/admin';

/**
 * Workgroup administration (ofchat `/ask/admin`), master secret only. Registered before the visitor
 * routes: `admin` is never a visitor's userID.
 *   GET    /ask/admin               all workgroups
 *   POST   /ask/admin               create {name, description, members, settings…}
 *   GET    /ask/admin/{workgroup}   one workgroup
 *   POST   /ask/admin/{workgroup}   members (ofchat: a comma/space-separated text body) and/or settings (JSON)
 *   DELETE /ask/admin/{workgroup}   delete
 */
export function adminRoutes(router: Router, admin: WorkgroupAdmin): void {
  router.get(BASE, async (ctx) => {
    requireMaster(ctx);
    ctx.body = { workgroups: await admin.list() };
  });

  router.post(BASE, async (ctx) => {
    requireMaster(ctx);
    const body = readBody(ctx);
    if (body.kind !== 'json')
      throw new BridgeError('VALIDATION_FAILED', 'send the workgroup as JSON', {
        errors: [{ path: 'body', message: 'expected a JSON object' }],
      });
    const created = await admin.create(validate(CreateWorkgroupInput, body.value));
    ctx.status = 201;
    ctx.set('Location', `${BASE}/${created.name}`);
    ctx.body = created;
  });

  router.get(`${BASE}/:workgroup`, async (ctx) => {
    requireMaster(ctx);
    ctx.body = await admin.get(ctx.params.workgroup!);
  });

  router.post(`${BASE}/:workgroup`, async (ctx) => {
    requireMaster(ctx);
    const body = readBody(ctx);
    const input =
      body.kind === 'json'
        ? validate(UpdateWorkgroupInput, body.value)
        : body.kind === 'text'
          ? { members: body.text }
          : undefined;
    if (!input)
      throw new BridgeError(
        'VALIDATION_FAILED',
        'send the members as text, or JSON with members and/or settings',
        { errors: [{ path: 'body', message: 'required' }] },
      );
    ctx.body = await admin.update(ctx.params.workgroup!, input);
  });

  router.delete(`${BASE}/:workgroup`, async (ctx) => {
    requireMaster(ctx);
    await admin.delete(ctx.params.workgroup!);
    ctx.status = 204;
  });
}
