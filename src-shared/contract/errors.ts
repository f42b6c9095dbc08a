// Every failure that crosses the contract carries one of these codes, so callers branch on a
// closed set instead of parsing messages.
import { z } from 'zod';

export const ErrorCode = z.enum([
  'VALIDATION', // the route name, the input or the sender's payload did not match the schema
  'NOT_FOUND', // the thing named by the input does not exist
  'FORBIDDEN', // the sender is not our app, or the request lacks the token
  'CONFLICT', // the request clashes with current state (e.g. cancelling a finished job)
  'INTERNAL', // a bug or an unexpected failure in the core (the output failed its own schema, …)
  'CANCELLED', // the work was cancelled before it finished
  'UNAVAILABLE', // the core cannot serve this now (model missing, store closed, …)
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiErrorShape = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
});
export type ApiErrorShape = z.infer<typeof ApiErrorShape>;

/** The envelope every route answers with: never a thrown error across the boundary. */
export type Result<T> = { ok: true; data: T } | { ok: false; error: ApiErrorShape };

export function resultSchema<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), data }),
    z.object({ ok: z.literal(false), error: ApiErrorShape }),
  ]);
}

/** Thrown inside the core by handlers; the funnel turns it into `{ ok: false, error }`. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }
}
