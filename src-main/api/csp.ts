// The Content-Security-Policy of the studio page, the same under both hosts apart from where
// images and the event socket come from. No inline scripts, no eval, no plugins, no framing.
export interface CspSources {
  /** Extra image sources (the Electron image protocol). */
  img?: string[];
  /** Extra connect sources (the browser-mode WebSocket origin). */
  connect?: string[];
}

export function contentSecurityPolicy(sources: CspSources = {}): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:', 'blob:', ...(sources.img ?? [])],
    'connect-src': ["'self'", ...(sources.connect ?? [])],
    'font-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
    'frame-src': ["'none'"],
    'worker-src': ["'self'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}
