// The two schemes the window loads from: atelier-app:// (the renderer build, with the CSP) and
// atelier-image:// (images in the data folder, nothing else).
import { readFile } from 'node:fs/promises';
import { protocol } from 'electron';
import { readRendererFile } from '../server/static-files';
import { resolveImageRequest } from './protocol-path';
import { APP_HOST, APP_SCHEME, IMAGE_SCHEME, PRIVILEGED_SCHEMES, STUDIO_CSP } from './security';

/** Must run before the app is ready. */
export function registerSchemes(): void {
  protocol.registerSchemesAsPrivileged(PRIVILEGED_SCHEMES.map((entry) => ({ scheme: entry.scheme, privileges: { ...entry.privileges } })));
}

const securityHeaders = { 'x-content-type-options': 'nosniff', 'content-security-policy': STUDIO_CSP };

export function handleProtocols(rendererDir: string, dataDir: string): void {
  protocol.handle(APP_SCHEME, (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return new Response('not found', { status: 404 });
    const file = readRendererFile(rendererDir, url.pathname);
    if (!file) return new Response('not found', { status: 404 });
    return new Response(new Uint8Array(file.body), { headers: { ...securityHeaders, 'content-type': file.type } });
  });

  protocol.handle(IMAGE_SCHEME, async (request) => {
    const resolved = resolveImageRequest(dataDir, request.url);
    if (!resolved.ok) return new Response(resolved.reason, { status: resolved.status });
    const bytes = await readFile(resolved.path);
    return new Response(new Uint8Array(bytes), { headers: { ...securityHeaders, 'content-type': resolved.mime } });
  });
}
