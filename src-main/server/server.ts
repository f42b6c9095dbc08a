// Browser mode: the core behind a local HTTP + WebSocket server that speaks the same contract as the
// Electron IPC and serves the same renderer build. Every request needs the random token (bearer
// header, or the cookie set when the printed URL is first opened) and, from a browser, our Origin.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { AtelierEvent, Result } from '../../src-shared/contract';
import type { ModelRoot } from '../api/core';
import { contentSecurityPolicy } from '../api/csp';
import { resolveDataFile } from '../api/data-file-path';
import { createApi } from '../api/index';
import { openCore } from '../api/open-core';
import type { JobQueueOptions } from '../jobs/types';
import { API_PREFIX, BRIDGE_PATH, EVENTS_PATH, browserBridgeScript } from './browser-bridge';
import { checkOrigin, cookieName, isLoopback, presentedToken, tokensMatch } from './http-security';
import { packageVersion, repoRoot } from './package-info';
import { readRendererFile } from './static-files';

export const FILES_PREFIX = '/files/';
const MAX_BODY_BYTES = 40 * 1024 * 1024;

export interface ServerOptions {
  dataDir: string;
  /** The built renderer, usually out/renderer. */
  rendererDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** 127.0.0.1 by default; anything else exposes the studio to the network (still token-guarded). */
  host?: string;
  modelRoots?: ModelRoot[];
  queue?: JobQueueOptions;
  log?: (message: string) => void;
}

export interface RunningServer {
  /** Open this in a browser: it carries the token. */
  url: string;
  origin: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const baseHeaders = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

function send(response: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) {
  response.writeHead(status, { ...baseHeaders, 'content-type': type, 'cache-control': 'no-store', ...extra });
  response.end(body);
}

function sendEnvelope(response: ServerResponse, status: number, envelope: Result<unknown>) {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(envelope));
}

function refuse(response: ServerResponse, status: 401 | 403 | 404 | 405 | 413 | 415, message: string) {
  const code = status === 401 || status === 403 ? 'FORBIDDEN' : status === 404 ? 'NOT_FOUND' : 'VALIDATION';
  sendEnvelope(response, status, { ok: false, error: { code, message } });
}

function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** index.html with the bridge script loaded first, so window.atelier exists before the app runs. */
function indexHtml(rendererDir: string): Buffer | null {
  const file = readRendererFile(rendererDir, '/index.html');
  if (!file) return null;
  const html = file.body.toString('utf8');
  const tag = `<script src="${BRIDGE_PATH}"></script>`;
  return Buffer.from(html.includes('<head>') ? html.replace('<head>', `<head>\n    ${tag}`) : tag + html);
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const token = randomBytes(24).toString('base64url');
  const root = repoRoot();
  const opened = openCore({
    dataDir: options.dataDir,
    version: packageVersion(),
    modelRoots: options.modelRoots ?? [
      { dir: join(options.dataDir, 'models'), origin: 'imported' },
      // Same override as the engine's default-model lookup (ATELIER_MODELS_DIR).
      { dir: process.env.ATELIER_MODELS_DIR ?? join(root, 'resources', 'models'), origin: 'bundled' },
    ],
    imageUrl: (path) => FILES_PREFIX + path.split('/').map(encodeURIComponent).join('/'),
    ...(options.queue ? { queue: options.queue } : {}),
  });
  const { core } = opened;
  // Only requests that passed the token and Origin checks below are marked; the funnel trusts
  // nothing else.
  const authenticated = Symbol('authenticated');
  const api = createApi(core, {
    trustSender: (sender) => typeof sender === 'object' && sender !== null && authenticated in sender,
    onInternalError: (route, error) => log(`internal error in ${route}: ${error instanceof Error ? error.stack : String(error)}`),
  });
  let port = 0;
  const csp = () => contentSecurityPolicy({ connect: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`] });
  const bridge = browserBridgeScript();

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://placeholder');
    const origin = checkOrigin(request, host, port);
    if (!origin.ok) return refuse(response, 403, origin.reason);

    // First visit: trade the token in the URL for a cookie and drop it from the address bar.
    const urlToken = url.searchParams.get('token');
    if (request.method === 'GET' && urlToken !== null) {
      if (!tokensMatch(token, urlToken)) return refuse(response, 401, 'wrong token');
      url.searchParams.delete('token');
      response.writeHead(303, {
        ...baseHeaders,
        location: url.pathname + url.search,
        'set-cookie': `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
      });
      return response.end();
    }
    if (!tokensMatch(token, presentedToken(request, port))) {
      return refuse(response, 401, 'this studio needs the token from the URL printed when it started');
    }

    if (url.pathname.startsWith(API_PREFIX)) {
      if (request.method !== 'POST') return refuse(response, 405, 'use POST');
      // A JSON content type cannot be sent cross-origin without a preflight we never answer.
      if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) {
        return refuse(response, 415, 'send application/json');
      }
      const body = await readBody(request);
      if (body === null) return refuse(response, 413, 'request too large');
      let input: unknown = undefined;
      if (body.length > 0) {
        try {
          input = JSON.parse(body.toString('utf8'));
        } catch {
          return sendEnvelope(response, 400, { ok: false, error: { code: 'VALIDATION', message: 'the body is not JSON' } });
        }
      }
      const route = decodeURIComponent(url.pathname.slice(API_PREFIX.length));
      const envelope = await api.invoke(route, input, { [authenticated]: true });
      return sendEnvelope(response, 200, envelope);
    }

    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(response, 405, 'method not allowed');
    if (url.pathname === BRIDGE_PATH) return send(response, 200, 'text/javascript; charset=utf-8', bridge);
    if (url.pathname.startsWith(FILES_PREFIX)) {
      const file = resolveDataFile(core.store.dataDir, url.pathname.slice(FILES_PREFIX.length));
      if (!file.ok) return refuse(response, file.status === 400 ? 403 : file.status, file.reason);
      // Content-addressed: a name never changes its bytes.
      return send(response, 200, file.mime, readFileSync(file.path), { 'cache-control': 'private, max-age=31536000, immutable' });
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const html = indexHtml(options.rendererDir);
      if (!html) return refuse(response, 404, `no renderer build in ${options.rendererDir}; run electron-vite build`);
      return send(response, 200, 'text/html; charset=utf-8', html, { 'content-security-policy': csp() });
    }
    const file = readRendererFile(options.rendererDir, url.pathname);
    if (!file) return refuse(response, 404, 'not found');
    return send(response, 200, file.type, file.body);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`request failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent) sendEnvelope(response, 500, { ok: false, error: { code: 'INTERNAL', message: 'request failed' } });
      else response.destroy();
    });
  });

  // Job events go to every connected page.
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const clients = new Set<WebSocket>();
  const stopForwarding = api.forwardEvents(
    (event: AtelierEvent) => {
      const text = JSON.stringify(event);
      for (const client of clients) if (client.readyState === client.OPEN) client.send(text);
    },
    (error) => log(`dropped an off-contract job event: ${String(error)}`),
  );
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://placeholder');
    const origin = checkOrigin(request, host, port);
    const reject = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (url.pathname !== EVENTS_PATH) return reject('404 Not Found');
    if (!origin.ok) return reject('403 Forbidden');
    if (!tokensMatch(token, presentedToken(request, port))) return reject('401 Unauthorized');
    sockets.handleUpgrade(request, socket, head, (client) => {
      clients.add(client);
      client.on('close', () => clients.delete(client));
      client.on('message', () => client.close(1008, 'this socket only sends')); // events flow one way
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    stopForwarding();
    api.close();
    await opened.close();
    throw error;
  }
  port = (server.address() as AddressInfo).port;
  const displayHost = host.includes(':') ? `[${host}]` : host;
  const originUrl = `http://${displayHost}:${port}`;
  if (!isLoopback(host)) log(`warning: the studio listens on ${host}, reachable from other machines (the token still guards it)`);

  let closing: Promise<void> | null = null;
  return {
    url: `${originUrl}/?token=${token}`,
    origin: originUrl,
    token,
    port,
    close: () =>
      (closing ??= (async () => {
        stopForwarding();
        for (const client of clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        api.close();
        await opened.close();
      })()),
  };
}
