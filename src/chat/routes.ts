import type Router from '@koa/router';
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { requireStream, requireUser, type AccessDeps } from '../http/access.js';
import { readBody, validate } from '../http/body.js';
import { parseEventId, parseUsername } from '../http/params.js';
import { parseJid } from '../xmpp/jid.js';
import { CHAT_STATES, type ChatState } from './inbound.js';
import type { ChatService, SendInput } from './ChatService.js';
import { parseHistoryDate } from './history.js';
import type { ChatReader } from '../messages/MessageLog.js';
import { attachmentIdsOf, chatMessageWithFiles, type MessageFiles } from '../attachments/index.js';

/** A 1:1 send: the chat feature's send route (Feature.sendRoutes). */
export const SEND_ROUTE = '/restapi/v1/chat/:streamid/messages/:to';

const MAX_BODY_CHARS = 64 * 1024;
/** Characters XML 1.0 cannot carry, even escaped (tab, newline and carriage return it can). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_IN_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
/** ofchat: text, or JSON with a `body`; the whole JSON travels along as `data`. */
const MessageJson = z.object({ body: z.string().min(1).max(MAX_BODY_CHARS) }).passthrough();
/** With `attachments` (uploaded file ids) the body may be left out: the file URLs become the body. */
const MessageJsonWithFiles = z
  .object({ body: z.string().min(1).max(MAX_BODY_CHARS).optional() })
  .passthrough();

const HistoryParams = z
  .object({
    keywords: z.string().min(1).max(500).optional(),
    to: z.string().min(1).max(3071).optional(),
    room: z.string().min(1).max(1023).optional(),
    service: z.string().min(1).max(1023).optional(),
    start: z.string().min(1).optional(),
    end: z.string().min(1).optional(),
    before: z.string().optional(),
    after: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export function chatRoutes(
  router: Router,
  access: AccessDeps,
  deps: {
    chat: ChatService;
    /** resolves the files a message names */
    files: MessageFiles;
    messages: Pick<ChatReader, 'chatHistory'>;
    domain: string;
    mucService: string;
  },
): void {
  const { chat } = deps;

  router.get('/restapi/v1/chat/:username/messages', async (ctx) => {
    const owner = parseUsername(ctx.params.username!);
    await requireUser(ctx, access, owner);
    const q = validate(HistoryParams, ctx.query, 'query');
    const service = q.service ? parseJid(q.service, deps.domain, 'MUC service').bare : deps.mucService;
    const room = q.room
      ? parseJid(q.room.includes('@') ? q.room : `${q.room}@${service}`, deps.domain, 'room JID').bare
      : undefined;
    ctx.body = await deps.messages.chatHistory({
      owner,
      room,
      keywords: q.keywords,
      limit: q.limit,
      peer: q.to ? parseJid(q.to, deps.domain, 'contact JID').bare : undefined,
      start: q.start ? parseHistoryDate(q.start, 'start', 'start') : undefined,
      end: q.end ? parseHistoryDate(q.end, 'end', 'end') : undefined,
      before: parseEventId(q.before),
      after: parseEventId(q.after),
    });
  });

  router.post(SEND_ROUTE, async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    const body = readBody(ctx);
    let input: SendInput;
    const fileIds = body.kind === 'json' ? attachmentIdsOf(body.value) : undefined;
    if (body.kind === 'json' && fileIds) {
      const recipient = parseJid(ctx.params.to!, deps.domain, 'recipient JID').bare;
      input = await chatMessageWithFiles(
        deps.files,
        session.username,
        body.value,
        fileIds,
        recipient,
        validate(MessageJsonWithFiles, body.value).body,
      );
    } else if (body.kind === 'json')
      input = { body: validate(MessageJson, body.value).body, data: body.value };
    else if (body.kind === 'text' && body.text !== '') input = { body: body.text };
    else
      throw new BridgeError('VALIDATION_FAILED', 'send the message as text/plain, or JSON with a "body"', {
        errors: [{ path: 'body', message: 'required' }],
      });
    if (input.body.length > MAX_BODY_CHARS)
      throw new BridgeError('BODY_TOO_LARGE', `a message body may have at most ${MAX_BODY_CHARS} characters`);
    // The stanza goes out before the row is written: refuse here what XML cannot carry (a server closes
    // the stream on it) and PostgreSQL text cannot hold (NUL), so neither fails after the other succeeded.
    if (NOT_IN_XML.test(input.body))
      throw new BridgeError('VALIDATION_FAILED', 'the body holds a control character that XML cannot carry', {
        errors: [{ path: 'body', message: 'U+0000–U+001F other than tab, newline and carriage return' }],
      });
    ctx.status = 201;
    ctx.body = await chat.send(session, ctx.params.to!, input);
  });

  router.post('/restapi/v1/chat/:streamid/messages/:to/:id/displayed', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    ctx.body = await chat.markDisplayed(session, ctx.params.to!, ctx.params.id!);
  });

  router.get('/restapi/v1/chat/:streamid/unread', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    ctx.body = await chat.unread(session);
  });

  router.post('/restapi/v1/chat/:streamid/chatstate/:state/:to', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    const state = ctx.params.state!;
    if (!(CHAT_STATES as readonly string[]).includes(state)) {
      throw new BridgeError(
        'VALIDATION_FAILED',
        `unknown chat state "${state.slice(0, 40)}"; use one of ${CHAT_STATES.join(', ')}`,
        { errors: [{ path: 'path.state', message: 'unknown chat state' }] },
      );
    }
    await chat.sendState(session, ctx.params.to!, state as ChatState);
    ctx.status = 204;
  });
}
