import type Router from '@koa/router';
import { BridgeError } from '../errors/BridgeError.js';
import { requireStream, type AccessDeps } from '../http/access.js';
import { readBody } from '../http/body.js';
import { parseStanza } from './parseStanza.js';
import type { RawStanzaService } from './RawStanzaService.js';

/**
 * POST /restapi/v1/chat/{streamid}/xmpp — one raw stanza (ofchat #3), as application/xml,
 * application/xmpp+xml or text/plain; capped by PARLEY_MAX_BODY_BYTES (413). An iq get/set answers
 * 200 with the reply (XML, or `{type, xml}` when JSON is preferred); other stanzas answer 204.
 */
export function rawRoutes(router: Router, access: AccessDeps, raw: RawStanzaService): void {
  router.post('/restapi/v1/chat/:streamid/xmpp', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    const body = readBody(ctx, { xml: true });
    if (body.kind === 'json')
      throw new BridgeError('UNSUPPORTED_MEDIA_TYPE', 'send the stanza as application/xml or text/plain');
    const text = body.kind === 'text' ? body.text : '';
    if (!text.trim())
      throw new BridgeError('INVALID_STANZA', 'the body is empty; send one <message/>, <presence/> or <iq/>');
    const reply = await raw.send(session, parseStanza(text));
    if (!reply) {
      ctx.status = 204;
      return;
    }
    if (ctx.accepts('application/xml', 'application/json') === 'application/json') {
      ctx.body = { type: reply.attrs.type as string, xml: reply.toString() };
    } else {
      ctx.type = 'application/xml';
      ctx.body = reply.toString();
    }
  });
}
