import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { rawBodyOf, validate } from '../http/body.js';
import type { FileTransfer } from '../attachments/index.js';
import { domainOf } from './addresses.js';
import type { Receiver } from './Receiver.js';
import {
  SYNC_AUTH_HEADER,
  SYNC_DIGEST_HEADER,
  SYNC_SITE_HEADER,
  sha256Hex,
  verifySigned,
} from './signing.js';
import type { SyncStore } from './SyncStore.js';
import { PushBody, type PullAnswer, type PushAnswer } from './wire.js';

const PullQuery = z
  .object({
    after: z.coerce.number().int().min(0),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();
const FileName = z.object({ name: z.string().min(1).max(255).optional() }).strict();
const REF = /^[A-Za-z0-9_-]{22}$/;

export interface PeerRouteDeps {
  /** undefined unless this deployment is a host (sites serve no peer calls) */
  host?: { key: string; sites: readonly string[] };
  store: SyncStore;
  receiver: Receiver;
  files: FileTransfer;
}

/**
 * The host's side of the link (a site calls; never the other way): push messages, collect messages,
 * upload and download files, read settings. Every call is signed (signing.ts) and idempotent.
 */
export function peerRoutes(router: Router, deps: PeerRouteDeps): void {
  router.post('/restapi/v1/sync/peer/messages', async (ctx) => {
    const site = signedSite(ctx, deps, sha256Hex(rawBodyOf(ctx) ?? ''));
    const { messages } = validate(PushBody, ctx.request.body);
    const answer: PushAnswer = { accepted: [], retry: [], refused: [] };
    for (const m of messages) {
      // A site speaks for its own users only, and its ids are its own (no suppressing another's by id).
      const r =
        domainOf(m.from) === site && m.id.startsWith(`${site}:`)
          ? await deps.receiver.accept(site, m)
          : { result: 'refused' as const, reason: `${m.from} (${m.id}) is not from ${site}` };
      if (r.result === 'refused') answer.refused.push({ id: m.id, reason: r.reason });
      else answer[r.result].push(m.id);
    }
    await deps.store.advance(site, 0);
    void deps.receiver.deliverPending();
    ctx.body = answer;
  });

  router.get('/restapi/v1/sync/peer/messages', async (ctx) => {
    const site = signedSite(ctx, deps, sha256Hex(''));
    const q = validate(PullQuery, ctx.query, 'query');
    // `after` is what the site has stored: those rows are done.
    await deps.store.ackThrough(site, q.after);
    await deps.store.advance(site, q.after);
    const rows = await deps.store.pending(site, q.limit, q.after);
    const answer: PullAnswer = {
      messages: rows,
      settingsVersion: (await deps.store.settings('published')).version,
    };
    ctx.body = answer;
  });

  router.put('/restapi/v1/sync/peer/files/:ref', async (ctx) => {
    const digest = ctx.get(SYNC_DIGEST_HEADER);
    const site = signedSite(ctx, deps, digest);
    const ref = fileRef(ctx);
    const q = validate(FileName, ctx.query, 'query');
    if (await deps.store.file(site, ref)) {
      ctx.req.resume(); // already here: the bytes are not needed
      ctx.status = 204;
      return;
    }
    if (!/^[0-9a-f]{64}$/.test(digest))
      throw new BridgeError('BAD_REQUEST', `${SYNC_DIGEST_HEADER} must be the file's hex SHA-256`);
    try {
      const stored = await deps.files.receive(ctx.req, {
        owner: `sync:${site}`,
        name: q.name ?? 'file',
        sha256: digest,
      });
      await deps.store.rememberFile(site, ref, { localId: stored.id, attachment: stored.attachment });
    } catch (err) {
      if (!ctx.req.readableEnded) {
        ctx.set('Connection', 'close');
        ctx.req.resume();
      }
      throw err;
    }
    ctx.status = 204;
  });

  router.get('/restapi/v1/sync/peer/files/:ref', async (ctx) => {
    const site = signedSite(ctx, deps, sha256Hex(''));
    const ref = fileRef(ctx);
    const file = (await deps.store.offersFile(site, ref)) ? await deps.files.find(ref) : undefined;
    if (!file) throw new BridgeError('NOT_FOUND', 'no such file for this site');
    ctx.type = file.type;
    ctx.length = file.size;
    ctx.body = file.open();
  });

  router.get('/restapi/v1/sync/peer/settings', async (ctx) => {
    signedSite(ctx, deps, sha256Hex(''));
    ctx.body = await deps.store.settings('published');
  });
}

function fileRef(ctx: Context): string {
  const ref = ctx.params.ref!;
  if (!REF.test(ref)) throw new BridgeError('NOT_FOUND', 'no such file');
  return ref;
}

/** The calling site, once its signature checks out (501 on a deployment that is not a host). */
function signedSite(ctx: Context, deps: PeerRouteDeps, digest: string): string {
  if (!deps.host)
    throw new BridgeError('SYNC_DISABLED', 'this deployment is not a sync host (PARLEY_SYNC_ROLE=host)');
  if (!ctx.get(SYNC_AUTH_HEADER))
    throw new BridgeError(
      'UNAUTHENTICATED',
      `site sync calls are signed (${SYNC_AUTH_HEADER}, PARLEY_SYNC_KEY)`,
    );
  const site = ctx.get(SYNC_SITE_HEADER).toLowerCase();
  verifySigned(
    deps.host.key,
    ctx.get(SYNC_AUTH_HEADER),
    { method: ctx.method, url: ctx.url, site, digest },
    deps.host.sites,
  );
  return site;
}
