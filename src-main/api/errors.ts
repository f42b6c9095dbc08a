// Turns whatever a handler threw into the contract's error shape. Store errors keep their meaning;
// anything unexpected becomes INTERNAL without leaking a stack trace to the renderer.
import type { ApiErrorShape } from '../../src-shared/contract';
import { ApiError } from '../../src-shared/contract';
import { StoreError } from '../store/types';

const storeCodes = {
  NOT_FOUND: 'NOT_FOUND',
  INVALID: 'VALIDATION',
  NEWER_SCHEMA: 'UNAVAILABLE',
  CORRUPT_DB: 'UNAVAILABLE',
} as const;

export function toApiError(error: unknown, route: string): ApiErrorShape {
  if (error instanceof ApiError) {
    return error.details === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, details: error.details };
  }
  if (error instanceof StoreError) return { code: storeCodes[error.code], message: error.message };
  return { code: 'INTERNAL', message: `${route} failed unexpectedly; see the studio log` };
}
