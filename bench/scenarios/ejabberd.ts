import { overBudget, postgresPid, type Ctx } from '../lib/context.js';
import { json, makeAgent, openSse, request, type SseEvent } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { measure, needsLeanRaw, type Curve } from './throughput.js';
import { eventsUrl, parleyLogin, connectXmpp, stopXmpp, type ParleyLogin } from '../load/drivers.js';
import xml from '@xmpp/xml';

/**
 * The same comparison on ejabberd 23.01: raw XMPP, ejabberd's own HTTP API (mod_http_api
 * send_message → a connected client) and Parley's REST send → the same kind of client. Then Parley's
 * features against ejabberd, one by one, so whatever breaks is reported rather than hidden.
 */

export interface InteropCheck {
  check: string;
  ok: boolean;
  ms: number;
  detail?: string;
}

async function timed(
  checks: InteropCheck[],
  check: string,
  fn: () => Promise<string | void>,
): Promise<boolean> {
  const t = performance.now();
  try {
    const detail = await Promise.race([
      fn(),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timed out after 15 s')), 15_000)),
    ]);
    checks.push({ check, ok: true, ms: Math.round(performance.now() - t), ...(detail ? { detail } : {}) });
    progress(`interop ✓ ${check}`);
    return true;
  } catch (err) {
    checks.push({
      check,
      ok: false,
      ms: Math.round(performance.now() - t),
      detail: (err as Error).message.slice(0, 500),
    });
    progress(`interop ✗ ${check}: ${(err as Error).message.slice(0, 200)}`);
    return false;
  }
}

class Inbox {
  readonly events: (SseEvent & { payload: Record<string, unknown> })[] = [];
  readonly stream;
  constructor(login: ParleyLogin) {
    this.stream = openSse(eventsUrl(login), (e) =>
      this.events.push({ ...e, payload: JSON.parse(e.data) as Record<string, unknown> }),
    );
  }
  async next(
    match: (e: { name: string; payload: Record<string, unknown> }) => boolean,
    ms = 10_000,
  ): Promise<Record<string, unknown>> {
    const until = performance.now() + ms;
    for (;;) {
      const e = this.events.find(match);
      if (e) return e.payload;
      if (performance.now() > until)
        throw new Error(
          `no matching event in ${ms} ms; got ${JSON.stringify(this.events.map((x) => [x.name, x.payload.type]).slice(-8))}`,
        );
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export async function ejabberdPart(ctx: Ctx, curves: Curve[] = []): Promise<Record<string, unknown>> {
  const ej = ctx.ejabberd!;
  const parley = ctx.parleyEj!;
  const names = ['ejrawa', 'ejrawb', 'ejsmrx', 'ejpxa', 'ejpxb', 'ejia', 'ejib', 'ejnative'];
  for (const n of names) await ej.register(n, ctx.password);
  const acct = (username: string) => ({
    service: ej.service,
    domain: ej.domain,
    username,
    password: ctx.password,
  });
  const pids = [parley.pid, ej.serverPid(), postgresPid(ctx.postgres)];
  const raw = await measure(
    ctx,
    { id: 'ej-raw', kind: 'raw-xmpp', config: { tag: 'er', tx: acct('ejrawa'), rx: acct('ejrawb') } },
    {
      name: 'raw XMPP',
      server: 'ejabberd',
      path: 'client → ejabberd → client',
      driver: '@xmpp/client',
      pids,
    },
  );
  curves.push(raw);
  if (needsLeanRaw(ctx, raw)) {
    progress(
      `the @xmpp/client driver used ${raw.loadgenCorePctAtCeiling ?? '?'} % of a core at its ceiling: measuring with the lean driver`,
    );
    curves.push(
      await measure(
        ctx,
        { id: 'ej-lean', kind: 'lean-xmpp', config: { tag: 'el', tx: acct('ejrawa'), rx: acct('ejrawb') } },
        {
          name: 'raw XMPP (lean driver)',
          server: 'ejabberd',
          path: 'client → ejabberd → client',
          driver: 'lean socket (pre-serialized, no DOM)',
          pids,
        },
      ),
    );
  }
  curves.push(
    await measure(
      ctx,
      {
        id: 'ej-sm',
        kind: 'send_message',
        config: { tag: 'es', apiUrl: ej.apiUrl, from: `ejrawa@${ej.domain}`, rx: acct('ejsmrx') },
      },
      {
        name: 'ejabberd send_message',
        server: 'ejabberd',
        path: 'HTTP API → ejabberd → client',
        driver: 'HTTP + @xmpp/client',
        pids,
      },
    ),
  );
  curves.push(
    await measure(
      ctx,
      {
        id: 'ej-px',
        kind: 'parley',
        config: {
          tag: 'ep',
          url: parley.url,
          domain: ej.domain,
          tx: { username: 'ejpxa', password: ctx.password },
          rx: { via: 'xmpp', account: acct('ejpxb') },
        },
      },
      {
        name: 'Parley → XMPP client',
        server: 'ejabberd',
        path: 'REST → store → ejabberd → client',
        driver: 'HTTP + @xmpp/client',
        pids,
      },
    ),
  );

  const interop = overBudget(ctx, 15) ? [] : await interopChecks(ctx);
  return {
    server: {
      version: '23.01 (Debian)',
      mam: false,
      streamManagement: true,
      carbons: true,
      shaper: 'none',
      muc: `conference.${ej.domain}`,
    },
    curves,
    interop,
    parleyWarnings: warnings(parley.output()),
  };
}

async function interopChecks(ctx: Ctx): Promise<InteropCheck[]> {
  const ej = ctx.ejabberd!;
  const url = ctx.parleyEj!.url;
  const agent = makeAgent(8);
  const checks: InteropCheck[] = [];
  let a: ParleyLogin | undefined;
  let b: ParleyLogin | undefined;
  let ia: Inbox | undefined;
  let ib: Inbox | undefined;
  await timed(checks, "login with the user's password (PLAIN over c2s)", async () => {
    a = await parleyLogin(url, 'ejia', ctx.password, agent);
    b = await parleyLogin(url, 'ejib', ctx.password, agent);
    ia = new Inbox(a);
    ib = new Inbox(b);
    await Promise.all([ia.stream.opened, ib.stream.opened]);
    return a.jid;
  });
  await timed(
    checks,
    'login with the master secret: account provisioned through XEP-0133 (mod_configure)',
    async () => {
      const r = await json<ParleyLogin>(agent, 'POST', `${url}/restapi/v1/chat/ejprov/login`, {
        headers: { Authorization: ctx.secret },
      });
      return `${r.jid} stream ${r.streamId}`;
    },
  );
  if (!a || !b || !ia || !ib) return checks;
  const A = a,
    B = b,
    IA = ia,
    IB = ib;
  await timed(checks, '1:1 message Parley → Parley (REST → SSE)', async () => {
    await json(agent, 'POST', `${url}/restapi/v1/chat/${A.streamId}/messages/${B.jid}`, {
      text: 'hello from a',
      headers: { Authorization: `Bearer ${A.token}` },
    });
    await IB.next(
      (e) => e.name === 'chatapi.chat' && e.payload.body === 'hello from a' && e.payload.direction === 'in',
    );
  });
  await timed(checks, 'delivery receipt (XEP-0184) back to the sender', async () => {
    const p = await IA.next((e) => e.name === 'chatapi.receipt', 8000);
    return String(p.status);
  });
  await timed(checks, 'history page of the sender', async () => {
    const h = await json<{ messages: { body: string }[] }>(
      agent,
      'GET',
      `${url}/restapi/v1/chat/ejia/messages?limit=10`,
      { headers: { Authorization: ctx.secret } },
    );
    if (!h.messages.some((m) => m.body === 'hello from a'))
      throw new Error(`sent message missing from history: ${JSON.stringify(h.messages).slice(0, 200)}`);
  });
  await timed(checks, 'native XMPP client → Parley user (SSE)', async () => {
    const x = await connectXmpp({
      service: ej.service,
      domain: ej.domain,
      username: 'ejnative',
      password: ctx.password,
      resource: 'native',
    });
    try {
      await x.send(
        xml('message', { type: 'chat', to: B.jid, id: 'native1' }, xml('body', {}, 'from a native client')),
      );
      await IB.next((e) => e.name === 'chatapi.chat' && e.payload.body === 'from a native client');
    } finally {
      await stopXmpp(x);
    }
  });
  const room = `ejroom${Date.now() % 100000}`;
  const joined = await timed(checks, `room join (PUT …/rooms/${room}) on ejabberd's MUC`, async () => {
    for (const [l, nick] of [
      [A, 'ana'],
      [B, 'bob'],
    ] as const) {
      const r = await request(agent, 'PUT', `${url}/restapi/v1/chat/${l.streamId}/rooms/${room}`, {
        headers: { Authorization: `Bearer ${l.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ nick }),
      });
      if (r.status !== 200 && r.status !== 201)
        throw new Error(`${nick}: ${r.status} ${r.body.slice(0, 300)}`);
    }
  });
  if (joined) {
    await timed(checks, "room post (POST …/rooms/{room}) reaches the other occupant's SSE", async () => {
      const r = await request(agent, 'POST', `${url}/restapi/v1/chat/${A.streamId}/rooms/${room}`, {
        headers: { Authorization: `Bearer ${A.token}`, 'Content-Type': 'text/plain' },
        body: 'hello room',
      });
      if (r.status !== 201 && r.status !== 202) throw new Error(`${r.status} ${r.body.slice(0, 300)}`);
      await IB.next((e) => e.name === 'chatapi.muc' && e.payload.body === 'hello room');
      return `POST answered ${r.status}`;
    });
  }
  await timed(checks, 'logoff', async () => {
    for (const l of [A, B])
      await json(agent, 'POST', `${url}/restapi/v1/chat/${l.streamId}/logoff`, {
        headers: { Authorization: `Bearer ${l.token}` },
        expect: [204],
      });
  });
  IA.stream.close();
  IB.stream.close();
  agent.destroy();
  return checks;
}

/** Distinct warnings/errors Parley logged (pino JSON, level ≥ 40), with how often. */
export function warnings(output: string): { level: number; msg: string; err?: string; count: number }[] {
  const seen = new Map<string, { level: number; msg: string; err?: string; count: number }>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((o.level ?? 0) < 40) continue;
      const key = `${o.msg}|${o.err?.message ?? ''}`;
      const e = seen.get(key) ?? {
        level: o.level!,
        msg: o.msg ?? '',
        ...(o.err?.message ? { err: o.err.message.slice(0, 300) } : {}),
        count: 0,
      };
      e.count++;
      seen.set(key, e);
    } catch {
      /* not JSON */
    }
  }
  return [...seen.values()].sort((x, y) => y.count - x.count).slice(0, 20);
}
