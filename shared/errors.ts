/**
 * Typed errors with stable codes. The HTTP layer maps them to the contract's error body in
 * one place (cloud/http/error-handler.ts); the CLI prints `code: message`.
 */

/** Error codes of the API contract, plus the project's own stable codes. */
export const ErrorCode = {
  INVALID_REQUEST: 'INVALID_REQUEST',
  AUTHENTICATION_FAILED: 'AUTHENTICATION_FAILED',
  FORBIDDEN: 'FORBIDDEN',
  RESOURCE_NOT_FOUND: 'RESOURCE_NOT_FOUND',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  DUPLICATE_RESOURCE: 'DUPLICATE_RESOURCE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMIT_EXCEEDED: 'RATE_LIMIT_EXCEEDED',
  /** Too many costly requests (exports, ffmpeg, recognition) running at once: 429 with Retry-After. */
  CONCURRENCY_LIMIT_EXCEEDED: 'CONCURRENCY_LIMIT_EXCEEDED',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  CONFIG_INVALID: 'CONFIG_INVALID',
  CHECKSUM_MISMATCH: 'CHECKSUM_MISMATCH',
  MODEL_MISSING: 'MODEL_MISSING',
  /** An edge's heartbeat `sent_at` is too far from the cloud's clock (fix NTP on the edge). */
  CLOCK_SKEW: 'CLOCK_SKEW',
  /** Another installation runs this edge id (each box needs its own edge id and key). */
  EDGE_ID_IN_USE: 'EDGE_ID_IN_USE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One bad field of a request or config file. */
export interface FieldError {
  field: string;
  message: string;
}

const defaultStatus: Record<ErrorCode, number> = {
  INVALID_REQUEST: 400,
  AUTHENTICATION_FAILED: 401,
  FORBIDDEN: 403,
  RESOURCE_NOT_FOUND: 404,
  VALIDATION_ERROR: 400,
  DUPLICATE_RESOURCE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMIT_EXCEEDED: 429,
  CONCURRENCY_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  CONFIG_INVALID: 400,
  CHECKSUM_MISMATCH: 500,
  MODEL_MISSING: 500,
  CLOCK_SKEW: 400,
  EDGE_ID_IN_USE: 409,
};

/** The one error type the project throws on purpose. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors?: FieldError[];
  readonly extra?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { status?: number; errors?: FieldError[]; cause?: unknown; extra?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = opts.status ?? defaultStatus[code];
    this.errors = opts.errors;
    this.extra = opts.extra;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** Turns zod issues into the contract's `errors` list (`field` is the dotted path). */
export function fieldErrors(
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string; code?: string; keys?: string[] }>,
): FieldError[] {
  return issues.flatMap((i) => {
    const base = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys' && i.keys?.length) {
      return i.keys.map((k) => {
        const field = base ? `${base}.${k}` : k;
        return { field, message: `${field}: unknown field` };
      });
    }
    const field = base || '(body)';
    if (/received undefined/.test(i.message)) return [{ field, message: `${field} is required` }];
    return [{ field, message: `${field}: ${i.message}` }];
  });
}
