// The checks browser mode makes before anything else: is this our page talking (Host and Origin),
// and does it hold the token (bearer header or the cookie set from the printed URL)?
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function cookieName(port: number): string {
  // Cookies ignore ports: two studios on one machine must not overwrite each other's token.
  return `atelier_token_${port}`;
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export function presentedToken(request: IncomingMessage, port: number): string | null {
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim();
  return readCookie(request.headers.cookie, cookieName(port));
}

export function tokensMatch(expected: string, candidate: string | null): boolean {
  if (candidate === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(candidate);
  return a.length === b.length && timingSafeEqual(a, b);
}

const loopbackNames = ['127.0.0.1', 'localhost', '[::1]'];

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

/**
 * Host: bound to loopback, only loopback names with our port are accepted (a DNS-rebinding page
 * reaches us under its own name). Origin: when a browser sends one, it must be our own origin.
 */
export function checkOrigin(request: IncomingMessage, bindHost: string, port: number): { ok: true } | { ok: false; reason: string } {
  const host = request.headers.host;
  if (!host) return { ok: false, reason: 'no Host header' };
  if (isLoopback(bindHost) && !loopbackNames.some((name) => host === `${name}:${port}`)) {
    return { ok: false, reason: `unexpected Host ${host}` };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return { ok: false, reason: `foreign Origin ${origin}` };
  if (request.headers['sec-fetch-site'] === 'cross-site') return { ok: false, reason: 'cross-site request' };
  return { ok: true };
}
