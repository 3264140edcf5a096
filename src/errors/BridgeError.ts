import { ERROR_CODES, type ErrorCode } from './codes.js';

export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * The one error type features throw. `code` picks the row of the error table; `detail` is shown to
 * clients for 4xx (never for 5xx); `xmppCondition` records the condition a server sent us (422s).
 */
export class BridgeError extends Error {
  readonly status: number;
  readonly expose: boolean;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extra: {
      errors?: FieldProblem[];
      xmppCondition?: string;
      xmppText?: string;
      retryAfter?: number;
      cause?: unknown;
    } = {},
  ) {
    const status = ERROR_CODES[code].status;
    const expose = status < 500 || status === 501 || status === 503 || status === 504;
    // An answer the client is told (a refusal, a bad request) is an outcome, not a fault: capturing its
    // stack cost ~10 µs apiece, and past the knee a gateway refuses thousands a second. A cause keeps its own.
    const limit = Error.stackTraceLimit;
    if (expose) Error.stackTraceLimit = 0;
    super(detail ?? ERROR_CODES[code].title, { cause: extra.cause });
    Error.stackTraceLimit = limit;
    this.name = 'BridgeError';
    this.status = status;
    this.expose = expose;
  }
}

export const isBridgeError = (e: unknown): e is BridgeError => e instanceof BridgeError;
