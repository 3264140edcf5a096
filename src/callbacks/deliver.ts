import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressPolicy } from './ssrf.js';
import { checkCallbackUrl, guardedLookup } from './ssrf.js';

export interface DeliveryResult {
  ok: boolean;
  status?: number;
  error?: string;
}

/**
 * One POST of a callback. Success is any 2xx; everything else (3xx included: redirects are not
 * followed, they could lead past the SSRF guard) is a failure the dispatcher retries. The response
 * body is read and dropped so the connection can be reused.
 */
export async function postCallback(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; policy: AddressPolicy },
): Promise<DeliveryResult> {
  let url: URL;
  try {
    url = await checkCallbackUrl(rawUrl, opts.policy);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<DeliveryResult>((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(opts.policy) as never,
        timeout: opts.timeoutMs,
      },
      (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => resolve(outcome(res.statusCode ?? 0)));
        res.on('error', () => resolve(outcome(res.statusCode ?? 0)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err: Error & { code?: string }) =>
      resolve({ ok: false, error: err.code ? `${err.code}: ${err.message}` : err.message }),
    );
    req.end(body);
  });
}

function outcome(status: number): DeliveryResult {
  if (status >= 200 && status < 300) return { ok: true, status };
  return {
    ok: false,
    status,
    error: status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`,
  };
}
