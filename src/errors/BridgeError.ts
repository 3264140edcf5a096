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
    super(detail ?? ERROR_CODES[code].title, { cause: extra.cause });
    this.name = 'BridgeError';
    this.status = ERROR_CODES[code].status;
    this.expose = this.status < 500 || this.status === 501 || this.status === 503 || this.status === 504;
  }
}

export const isBridgeError = (e: unknown): e is BridgeError => e instanceof BridgeError;
