import { makeAgent, request } from '../lib/http.js';
import { summarize, type Summary } from '../lib/stats.js';

/** History pages over HTTP, one request at a time (closed loop): the latency a user's scroll-back sees. */
export async function historyQueries(args: {
  url: string;
  secret: string;
  queries: { name: string; paths: string[] }[];
}): Promise<Record<string, { latency: Summary; messages: number; errors: number; firstError?: string }>> {
  const agent = makeAgent(1);
  const out: Record<string, { latency: Summary; messages: number; errors: number; firstError?: string }> = {};
  for (const q of args.queries) {
    const lat: number[] = [];
    let messages = 0;
    let errors = 0;
    let firstError: string | undefined;
    for (const path of q.paths) {
      const t = performance.now();
      const r = await request(agent, 'GET', `${args.url}${path}`, {
        headers: { Authorization: args.secret },
        timeoutMs: 30_000,
      });
      const ms = performance.now() - t;
      if (r.status !== 200) {
        errors++;
        firstError ??= `${r.status} ${r.body.slice(0, 200)}`;
        continue;
      }
      lat.push(ms);
      messages += (JSON.parse(r.body) as { messages: unknown[] }).messages.length;
    }
    out[q.name] = {
      latency: summarize(lat),
      messages: Math.round(messages / Math.max(1, lat.length)),
      errors,
      ...(firstError ? { firstError } : {}),
    };
  }
  agent.destroy();
  return out;
}
