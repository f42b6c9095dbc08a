// The renderer's only way to the core: `window.atelier`, put there by the host before the app
// runs (the Electron preload, or browser mode's bridge script). Same shape under both hosts.
import type { AtelierApi, Result } from '../../src-shared/contract';

declare global {
  interface Window {
    readonly atelier?: AtelierApi;
  }
}

export class HostMissingError extends Error {
  constructor() {
    super('window.atelier is missing: open Atelier from the desktop app or the URL printed by `atelier serve`.');
  }
}

export function atelier(): AtelierApi {
  const api = window.atelier;
  if (!api) throw new HostMissingError();
  return api;
}

/** An error the UI can show: the contract's code plus its message. */
export class CallError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Unwraps an envelope, throwing a CallError for `{ ok: false }`. */
export async function unwrap<T>(pending: Promise<Result<T>>): Promise<T> {
  const result = await pending;
  if (!result.ok) throw new CallError(result.error.code, result.error.message);
  return result.data;
}

export function describeError(error: unknown): string {
  if (error instanceof CallError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
