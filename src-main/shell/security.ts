// The Electron shell's security decisions as plain data and pure functions, so tests can check them
// in Node without the Electron binary. main.ts only wires these into Electron.
import type { BrowserWindowConstructorOptions } from 'electron';
import { contentSecurityPolicy } from '../api/csp';

/** The renderer is served from this privileged scheme (a real origin, unlike file://). */
export const APP_SCHEME = 'atelier-app';
export const APP_HOST = 'studio';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** Data-folder images, confined to <dataDir>/images (see protocol-path.ts). */
export const IMAGE_SCHEME = 'atelier-image';

export const STUDIO_CSP = contentSecurityPolicy({ img: [`${IMAGE_SCHEME}:`] });

/** Schemes to register (before app ready) with the privileges they need, and no more. */
export const PRIVILEGED_SCHEMES = [
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: IMAGE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
] as const;

export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'Atelier',
    show: false,
    backgroundColor: '#15171c',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

/**
 * Is this the URL of our own page? Only the top frame of the studio may call the API: our app
 * origin, or the dev server's origin when running `electron-vite dev`.
 */
export function isTrustedAppUrl(url: string | undefined | null, devServerUrl?: string): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST) return true;
  if (devServerUrl) {
    try {
      return parsed.origin === new URL(devServerUrl).origin && parsed.origin !== 'null';
    } catch {
      return false;
    }
  }
  return false;
}

/** The sender check handed to the funnel: a top-level frame showing our page. */
export function isTrustedSender(
  frame: { url: string; parent: unknown } | null | undefined,
  devServerUrl?: string,
): boolean {
  return !!frame && frame.parent === null && isTrustedAppUrl(frame.url, devServerUrl);
}

/** Links leave the app only as http(s), and only right after the person clicked or pressed a key. */
export const USER_ACTION_WINDOW_MS = 1500;

export function isExternalLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

export class ExternalLinkPolicy {
  private lastUserInputAt = Number.NEGATIVE_INFINITY;

  /** Called for mouse-down and key-down input events of the window. */
  recordUserInput(at: number): void {
    this.lastUserInputAt = at;
  }

  shouldOpen(url: string, at: number): boolean {
    return isExternalLink(url) && at - this.lastUserInputAt >= 0 && at - this.lastUserInputAt <= USER_ACTION_WINDOW_MS;
  }
}

/** Input events that count as a person acting (synthetic script events never reach the main process). */
export function isUserInput(type: string): boolean {
  return type === 'mouseDown' || type === 'keyDown' || type === 'rawKeyDown';
}
