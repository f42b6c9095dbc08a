// atelier-image://local/images/ab/cdef….png → the file it names inside the data folder, or a refusal.
// The resolution itself (traversal, symlinks, allowed folder and extensions) is resolveDataFile,
// shared with browser mode.
import type { DataFileResolution } from '../api/data-file-path';
import { resolveDataFile } from '../api/data-file-path';
import { IMAGE_SCHEME } from './security';

export const IMAGE_HOST = 'local';

/** The URL the renderer uses for a data-folder path such as `images/ab/cd….png`. */
export function imageProtocolUrl(relativePath: string): string {
  return `${IMAGE_SCHEME}://${IMAGE_HOST}/${relativePath.split('/').map(encodeURIComponent).join('/')}`;
}

export function resolveImageRequest(dataDir: string, requestUrl: string): DataFileResolution {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { ok: false, status: 400, reason: 'malformed URL' };
  }
  if (url.protocol !== `${IMAGE_SCHEME}:` || url.host !== IMAGE_HOST) {
    return { ok: false, status: 403, reason: 'not an atelier-image://local URL' };
  }
  if (url.search || url.hash || url.username || url.password) {
    return { ok: false, status: 400, reason: 'image URLs carry no query, fragment or credentials' };
  }
  return resolveDataFile(dataDir, url.pathname);
}
