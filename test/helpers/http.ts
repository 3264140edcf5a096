import { expectResponseMatchesSpec, templateFor } from './openapi.js';

/**
 * Small fetch wrappers so tests read like the README's curl tour. Every answer to a route that
 * openapi.yaml describes is checked against it, so each integration test also tests the contract.
 */
export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
  contentType: string;
}

export async function call<T = Record<string, unknown>>(
  url: string,
  init: {
    method?: string;
    auth?: string;
    json?: unknown;
    text?: string;
    headers?: Record<string, string>;
    body?: string;
  } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.auth) headers.Authorization = init.auth;
  let body: string | undefined = init.body;
  if (init.json !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  }
  if (init.text !== undefined) {
    headers['Content-Type'] ??= 'text/plain; charset=utf-8';
    body = init.text;
  }
  const method = init.method ?? (body !== undefined ? 'POST' : 'GET');
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  const template = templateFor(method, new URL(url).pathname);
  if (template && !contentType.startsWith('text/event-stream'))
    expectResponseMatchesSpec(method, template, res.status, contentType, text);
  let parsed: unknown = text;
  if (/json/.test(contentType) && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T, text, contentType };
}

export const basic = (user: string, password: string): string =>
  'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
export const bearer = (token: string): string => `Bearer ${token}`;

/** Adds `token` (and optionally a replay cursor) to an events URL as EventSource clients must. */
export function withToken(eventsUrl: string, token: string, lastEventId?: string): string {
  const u = new URL(eventsUrl);
  u.searchParams.set('token', token);
  if (lastEventId !== undefined) u.searchParams.set('lastEventId', lastEventId);
  return u.toString();
}
