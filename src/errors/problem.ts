import type { BridgeError } from './BridgeError.js';
import { ERROR_CODES, type ErrorCode } from './codes.js';

/**
 * RFC 9457 problem details, the only error body Parley sends: by the HTTP error handler, and by an SSE
 * stream that fails before its headers (it writes the raw response, outside Koa's middleware).
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: ErrorCode;
  requestId?: string;
  errors?: { path: string; message: string }[];
  xmppCondition?: string;
}

const TYPE_BASE = 'https://parley.dev/problems/';

export function toProblem(err: BridgeError, requestId?: string): Problem {
  const spec = ERROR_CODES[err.code];
  return {
    type: TYPE_BASE + err.code.toLowerCase().replace(/_/g, '-'),
    title: spec.title,
    status: spec.status,
    detail: err.expose
      ? (err.detail ?? spec.title)
      : 'An unexpected error occurred; quote the requestId when reporting it.',
    code: err.code,
    ...(requestId ? { requestId } : {}),
    ...(err.extra.errors?.length ? { errors: err.extra.errors } : {}),
    ...(err.extra.xmppCondition ? { xmppCondition: err.extra.xmppCondition } : {}),
  };
}
