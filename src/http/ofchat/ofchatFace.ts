import type { Context, Middleware } from 'koa';
import {
  askQueueShape,
  conversationsShape,
  errorShape,
  occupantsShape,
  participantsShape,
  type HistoryMessage,
  type OccupantView,
} from './shapes.js';

/**
 * The Openfire-compatible face: ofchat's API where Openfire serves it (Jetty context `/rest`, Jersey at
 * `/api/*`), answered by the same routes and services as Parley's own `/restapi/v1`. This middleware only
 * translates: it strips the prefix so the request reaches the ordinary route, then turns the answer into
 * what ofchat's code (igniterealtime/Openfire-Chat ChatService.java, AskService.java) gives:
 *  - login: 200 text/plain stream id, whatever the Accept header; the body is the password as text;
 *  - calls ofchat answers with `Response.ok()`: 200 and no body (contacts: 201, as ofchat's code does);
 *  - room participants/occupants, history, the ask queue: Jersey 1 JSON shapes (shapes.ts);
 *  - POST /ask/ holds the request until an expert takes it (Parley's `Prefer: wait`), then the AssistEntity;
 *  - errors: 401 without a body for credentials, else 400 with ofchat's ErrorResponse JSON.
 * Bodies are read as text by the shared body rules (http/body.ts), on both faces.
 */
export const OFCHAT_PREFIX = '/rest/api';

export interface OfchatFaceOptions {
  /** XMPP domain: history owners become `user@domain` */
  domain: string;
  /** PARLEY_OFCHAT_ASK_WAIT_SECONDS: how long POST /ask/ waits for an expert */
  askWaitSeconds: number;
}

interface FaceRoute {
  method: string;
  path: RegExp;
  /** adjusts the request before Parley's route sees it (its path, a header, how the body is read) */
  before?(ctx: Context, m: RegExpExecArray): void;
  /** turns Parley's successful answer into ofchat's */
  answer(ctx: Context, m: RegExpExecArray): void;
}

const API = '/restapi/v1';

export function ofchatFace(opts: OfchatFaceOptions): Middleware {
  const routes = faceRoutes(opts);
  return async function ofchat(ctx, next) {
    if (!ctx.path.startsWith(`${OFCHAT_PREFIX}${API}/`)) return next();
    const path = ctx.path.slice(OFCHAT_PREFIX.length);
    let route: FaceRoute | undefined;
    let m: RegExpExecArray | null = null;
    for (const r of routes) {
      if (r.method !== ctx.method) continue;
      m = r.path.exec(path);
      if (m) {
        route = r;
        break;
      }
    }
    ctx.state.face = 'ofchat';
    ctx.path = path;
    if (route && m) route.before?.(ctx, m);
    await next();
    if (ctx.method === 'OPTIONS') return; // a CORS preflight or the router's Allow answer, as is
    if (ctx.status >= 400) return answerError(ctx);
    if (route && m) route.answer(ctx, m);
    else if (ctx.method !== 'GET' && ctx.method !== 'HEAD') empty(ctx, 200);
  };
}

function faceRoutes(opts: OfchatFaceOptions): FaceRoute[] {
  const CHAT = `^${API}/chat`;
  return [
    {
      method: 'POST',
      path: new RegExp(`${CHAT}/([^/]+)/login$`),
      before(ctx) {
        ctx.state.textBody = 'plain'; // ofchat's login body is the password, whatever its label
        ctx.request.headers.accept = 'application/json';
      },
      answer(ctx) {
        const { streamId, token } = ctx.body as { streamId: string; token: string };
        ctx.status = 200;
        ctx.remove('Location');
        ctx.set('X-Parley-Token', token);
        ctx.type = 'text/plain';
        ctx.body = streamId;
      },
    },
    {
      method: 'GET',
      path: new RegExp(`${CHAT}/rooms/([^/]+)/participants$`),
      // ofchat lists the room's occupants (MUCRole: nick, role, affiliation), not its affiliation lists.
      before(ctx, m) {
        ctx.path = `${API}/chat/rooms/${m[1]}/occupants`;
      },
      answer(ctx) {
        const b = ctx.body as { room: string; occupants: OccupantView[] };
        ctx.body = participantsShape(b.room, b.occupants);
      },
    },
    {
      method: 'GET',
      path: new RegExp(`${CHAT}/rooms/([^/]+)/occupants$`),
      answer(ctx) {
        const b = ctx.body as { room: string; occupants: OccupantView[] };
        ctx.body = occupantsShape(b.room, b.occupants);
      },
    },
    {
      method: 'GET',
      path: new RegExp(`${CHAT}/([^/]+)/messages$`),
      // ofchat answers every matching conversation at once: the newest 500 messages (one page).
      before(ctx) {
        if (ctx.query.limit === undefined) ctx.query = { ...ctx.query, limit: '500' };
      },
      answer(ctx, m) {
        const owner = `${decodeURIComponent(m[1]!).toLowerCase()}@${opts.domain}`;
        ctx.body = conversationsShape(owner, (ctx.body as { messages: HistoryMessage[] }).messages);
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^${API}/ask/?$`),
      before(ctx) {
        ctx.path = `${API}/ask`;
        ctx.request.headers.prefer = `wait=${opts.askWaitSeconds}`;
      },
      answer: answerAsk,
    },
    {
      method: 'GET',
      path: new RegExp(`^${API}/ask/([^/]+)$`),
      answer(ctx) {
        ctx.body = askQueueShape(ctx.body as Record<string, unknown>);
      },
    },
    // ofchat's code answers 201 Created to every contact change (ChatService createRoster/updateRoster/deleteRoster).
    ...['POST', 'PUT', 'DELETE'].map((method) => ({
      method,
      path: new RegExp(`${CHAT}/[^/]+/contacts(?:/[^/]+)?$`),
      answer: (ctx: Context) => empty(ctx, 201),
    })),
  ];
}

/**
 * AskService.requestAssistance: the AskEntity as sent, filled in once an expert took the request —
 * `groupchat` and `sender` name the room (the visitor page joins `sender`'s room), `url` a join link;
 * `groupchat: "revoked"` when the request ended before; 400 "Timeout error, no agent available" when the
 * wait ran out (Parley then withdraws the request, so no expert is offered a visitor who left).
 */
function answerAsk(ctx: Context): void {
  const view = ctx.body as { room?: string | null; status?: string };
  const sent = (ctx.request as unknown as { body?: unknown }).body;
  const input = typeof sent === 'object' && sent !== null ? (sent as Record<string, unknown>) : {};
  const echo: Record<string, unknown> = {};
  for (const k of [
    'nickname',
    'userID',
    'emailAddress',
    'agent',
    'question',
    'product',
    'company',
    'state',
    'country',
    'workgroup',
  ])
    if (typeof input[k] === 'string') echo[k] = input[k];
  if (ctx.status === 202) {
    ctx.status = 400;
    ctx.type = 'application/json';
    ctx.body = errorShape('Timeout error, no agent available');
    return;
  }
  ctx.status = 200;
  ctx.remove('Location');
  ctx.remove('Preference-Applied');
  if (view.status === 'routed' && view.room) {
    ctx.body = {
      ...echo,
      url: `xmpp:${view.room}?join`,
      groupchat: view.room,
      message: 'An expert is here to help',
      sender: view.room,
    };
  } else ctx.body = { ...echo, groupchat: 'revoked' };
}

/** ofchat: credentials refused by its AuthFilter → 401 with no body; unknown paths stay 404/405; all else 400. */
function answerError(ctx: Context): void {
  const matched = (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute !== undefined;
  ctx.remove('WWW-Authenticate');
  if (ctx.status === 401 || (!matched && (ctx.status === 404 || ctx.status === 405)))
    return empty(ctx, ctx.status);
  const problem = ctx.body as { detail?: string; title?: string } | undefined;
  ctx.status = 400;
  ctx.type = 'application/json';
  ctx.body = errorShape(problem?.detail ?? problem?.title ?? 'Exception');
}

function empty(ctx: Context, status: number): void {
  ctx.remove('Content-Type'); // else Koa writes a JSON `null`
  ctx.body = null;
  ctx.status = status;
}
