/**
 * The one error table: every failure Parley reports has a stable code that maps to an HTTP status,
 * a human title, and (where a stanza is involved) the XMPP error it corresponds to (RFC 6120 §8.3).
 * HTTP answers use it for application/problem+json; component handlers use it for <error/> replies.
 */
export type XmppErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';
export interface ErrorSpec {
  status: number;
  title: string;
  xmpp?: { type: XmppErrorType; condition: string };
  /** seconds for the Retry-After header when the thrower gives none: every 503 says when to come back */
  retryAfter?: number;
}

export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, title: 'Bad request', xmpp: { type: 'modify', condition: 'bad-request' } },
  INVALID_JSON: {
    status: 400,
    title: 'Malformed JSON body',
    xmpp: { type: 'modify', condition: 'bad-request' },
  },
  VALIDATION_FAILED: {
    status: 400,
    title: 'Request failed validation',
    xmpp: { type: 'modify', condition: 'bad-request' },
  },
  INVALID_USERNAME: {
    status: 400,
    title: 'Invalid username',
    xmpp: { type: 'modify', condition: 'jid-malformed' },
  },
  INVALID_JID: { status: 400, title: 'Invalid JID', xmpp: { type: 'modify', condition: 'jid-malformed' } },
  INVALID_STANZA: {
    status: 400,
    title: 'Invalid XMPP stanza',
    xmpp: { type: 'modify', condition: 'bad-request' },
  },
  UNAUTHENTICATED: {
    status: 401,
    title: 'Authentication required',
    xmpp: { type: 'auth', condition: 'not-authorized' },
  },
  BAD_CREDENTIALS: {
    status: 401,
    title: 'Wrong username, password or token',
    xmpp: { type: 'auth', condition: 'not-authorized' },
  },
  FORBIDDEN: { status: 403, title: 'Not allowed', xmpp: { type: 'auth', condition: 'forbidden' } },
  NOT_YOUR_STREAM: {
    status: 403,
    title: 'This token belongs to another stream',
    xmpp: { type: 'auth', condition: 'forbidden' },
  },
  SPOOFED_FROM: {
    status: 403,
    title: 'Stanza "from" is not the session\'s own JID',
    xmpp: { type: 'auth', condition: 'forbidden' },
  },
  NOT_FOUND: { status: 404, title: 'Not found', xmpp: { type: 'cancel', condition: 'item-not-found' } },
  STREAM_NOT_FOUND: {
    status: 404,
    title: 'Unknown or ended stream',
    xmpp: { type: 'cancel', condition: 'item-not-found' },
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    title: 'Method not allowed',
    xmpp: { type: 'cancel', condition: 'not-allowed' },
  },
  NOT_ACCEPTABLE: {
    status: 406,
    title: 'Not acceptable',
    xmpp: { type: 'modify', condition: 'not-acceptable' },
  },
  CONFLICT: { status: 409, title: 'Conflict', xmpp: { type: 'cancel', condition: 'conflict' } },
  ACCOUNT_NOT_MANAGED: {
    status: 409,
    title: 'Account exists and is not managed by Parley',
    xmpp: { type: 'cancel', condition: 'conflict' },
  },
  BODY_TOO_LARGE: {
    status: 413,
    title: 'Request body too large',
    xmpp: { type: 'modify', condition: 'policy-violation' },
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported content type',
    xmpp: { type: 'modify', condition: 'bad-request' },
  },
  IMAGE_TOO_LARGE: {
    status: 413,
    title: 'Image too large',
    xmpp: { type: 'modify', condition: 'policy-violation' },
  },
  UPLOAD_QUOTA_EXCEEDED: {
    status: 413,
    title: 'Upload quota exceeded',
    xmpp: { type: 'modify', condition: 'resource-constraint' },
  },
  XMPP_REFUSED: { status: 422, title: 'The XMPP server refused the request' },
  RATE_LIMITED: {
    status: 429,
    title: 'Too many requests',
    xmpp: { type: 'wait', condition: 'policy-violation' },
  },
  LOGIN_THROTTLED: {
    status: 429,
    title: 'Too many failed password checks',
    xmpp: { type: 'wait', condition: 'policy-violation' },
  },
  QUEUE_FULL: {
    status: 429,
    title: 'The workgroup queue is full',
    xmpp: { type: 'wait', condition: 'resource-constraint' },
  },
  TOO_MANY_STREAMS: {
    status: 429,
    title: 'Too many open event streams',
    xmpp: { type: 'wait', condition: 'resource-constraint' },
  },
  SEND_QUEUE_FULL: {
    status: 429,
    title: 'Too many messages of this session are still on their way',
    xmpp: { type: 'wait', condition: 'resource-constraint' },
    retryAfter: 1,
  },
  INTERNAL: {
    status: 500,
    title: 'Internal server error',
    xmpp: { type: 'wait', condition: 'internal-server-error' },
  },
  METHOD_NOT_IMPLEMENTED: {
    status: 501,
    title: 'HTTP method not implemented',
    xmpp: { type: 'cancel', condition: 'feature-not-implemented' },
  },
  PROVISIONING_DISABLED: {
    status: 501,
    title: 'Account provisioning is not configured',
    xmpp: { type: 'cancel', condition: 'feature-not-implemented' },
  },
  LOGIN_TOKEN_REFUSED: {
    status: 502,
    title: "The XMPP server refused Parley's login token",
    xmpp: { type: 'cancel', condition: 'not-authorized' },
  },
  HOST_SITE_DISABLED: {
    status: 501,
    title: 'Host-site integration is not configured',
    xmpp: { type: 'cancel', condition: 'feature-not-implemented' },
  },
  HOST_SITE_UNAVAILABLE: {
    status: 502,
    title: 'The host site did not answer the user info request',
    xmpp: { type: 'wait', condition: 'remote-server-timeout' },
  },
  SYNC_DISABLED: {
    status: 501,
    title: 'Site sync is not configured for this call',
    xmpp: { type: 'cancel', condition: 'feature-not-implemented' },
  },
  XMPP_UNAVAILABLE: {
    status: 503,
    title: 'XMPP server unavailable',
    xmpp: { type: 'wait', condition: 'service-unavailable' },
    retryAfter: 5,
  },
  SHUTTING_DOWN: {
    status: 503,
    title: 'This gateway instance is shutting down',
    xmpp: { type: 'wait', condition: 'service-unavailable' },
    retryAfter: 1,
  },
  GATEWAY_BUSY: {
    status: 503,
    title: 'This gateway instance is at its capacity; sends are paused',
    xmpp: { type: 'wait', condition: 'resource-constraint' },
    retryAfter: 1,
  },
  XMPP_BACKLOG: {
    status: 503,
    title: 'The XMPP server is not keeping up; sends are paused',
    xmpp: { type: 'wait', condition: 'resource-constraint' },
    retryAfter: 1,
  },
  DATABASE_UNAVAILABLE: {
    status: 503,
    title: 'Database unavailable',
    xmpp: { type: 'wait', condition: 'service-unavailable' },
    retryAfter: 5,
  },
  XMPP_TIMEOUT: {
    status: 504,
    title: 'The XMPP server did not answer in time',
    xmpp: { type: 'wait', condition: 'remote-server-timeout' },
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function specFor(code: ErrorCode): ErrorSpec {
  return ERROR_CODES[code];
}
