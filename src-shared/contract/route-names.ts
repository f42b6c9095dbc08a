// The names of every route and the shape of `window.atelier`, with no dependency at all:
// the sandboxed preload and the browser-mode bootstrap build the API object from this list,
// and routes.ts checks at compile time that it names exactly the routes that have schemas.

export const ROUTE_NAMES = [
  'app.info',
  'settings.get',
  'settings.set',
  'jobs.submit',
  'jobs.cancel',
  'jobs.list',
  'history.list',
  'history.get',
  'history.search',
  'history.delete',
  'history.setFavourite',
  'history.setTags',
  'history.tags',
  'history.lineage',
  'models.list',
  'images.readParameters',
  'batch.create',
  'batch.list',
  'batch.get',
  'batch.cancel',
  'batch.resume',
  'batch.export',
  'lora.inspect',
  'lora.setCaption',
  'lora.start',
  'lora.runs',
  'lora.run',
  'lora.cancel',
  'lora.try',
  'lora.available',
] as const;
export type RouteName = (typeof ROUTE_NAMES)[number];

/** The one IPC channel every route goes through (Electron host). */
export const INVOKE_CHANNEL = 'atelier:invoke';
/** The IPC channel on which the main process pushes events to the window (Electron host). */
export const EVENT_CHANNEL = 'atelier:event';

/** `{ app: ['info'], settings: ['get', 'set'], … }` */
export function domainsOf(names: readonly string[]): Record<string, string[]> {
  const domains: Record<string, string[]> = {};
  for (const name of names) {
    const dot = name.indexOf('.');
    const domain = name.slice(0, dot);
    (domains[domain] ??= []).push(name.slice(dot + 1));
  }
  return domains;
}

/**
 * Builds the object exposed as `window.atelier`: one frozen object per domain whose methods send
 * `(route, input)` through `call`, plus `events.on`. Both hosts use it, so the shape is identical.
 */
export function buildAtelierObject(
  call: (route: string, input: unknown) => Promise<unknown>,
  subscribe: (listener: (event: unknown) => void) => () => void,
): Record<string, Record<string, unknown>> {
  const api: Record<string, Record<string, unknown>> = {};
  for (const [domain, methods] of Object.entries(domainsOf(ROUTE_NAMES))) {
    const object: Record<string, unknown> = {};
    for (const method of methods) {
      const route = `${domain}.${method}`;
      object[method] = (input?: unknown) => call(route, input);
    }
    api[domain] = Object.freeze(object);
  }
  api.events = Object.freeze({
    on: (listener: (event: unknown) => void) => {
      if (typeof listener !== 'function') throw new TypeError('events.on needs a function');
      return subscribe(listener);
    },
  });
  return Object.freeze(api);
}
