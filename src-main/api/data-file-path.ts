// Which file a request for a data-folder image names, if any. Shared by the Electron protocol
// (atelier-image://) and browser mode (/files/…). Pure apart from realpath/stat, so tests can throw
// traversal attempts at it in plain Node.
//
// Only files under <dataDir>/images with an image extension are ever served: the database and
// anything else in the data folder stay out of reach, whatever the path says.
import { realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';

export const SERVED_FOLDER = 'images';

const mimeByExtension: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

export type DataFileResolution =
  | { ok: true; path: string; mime: string }
  | { ok: false; status: 400 | 403 | 404; reason: string };

function refuse(status: 400 | 403 | 404, reason: string): DataFileResolution {
  return { ok: false, status, reason };
}

/**
 * @param dataDir the user data folder
 * @param urlPath the path part of the request, still percent-encoded, e.g. `/images/ab/cd….png`
 */
export function resolveDataFile(dataDir: string, urlPath: string): DataFileResolution {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return refuse(400, 'malformed percent-encoding');
  }
  // Backslashes are separators on Windows and NUL truncates paths in some APIs: neither has a
  // place in a content-addressed image path.
  if (decoded.includes('\0') || decoded.includes('\\')) return refuse(400, 'forbidden character in path');
  const segments = decoded.replace(/^\/+/, '').split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..' || segment.includes(':'))) {
    return refuse(403, 'path leaves the images folder');
  }
  if (segments[0] !== SERVED_FOLDER || segments.length < 2) return refuse(403, 'only the images folder is served');
  const name = segments[segments.length - 1] ?? '';
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  const mime = mimeByExtension[extension];
  if (!mime) return refuse(403, 'not an image file');

  let root: string;
  let real: string;
  try {
    root = realpathSync(join(dataDir, SERVED_FOLDER));
    real = realpathSync(join(dataDir, ...segments));
  } catch {
    return refuse(404, 'no such file');
  }
  // A symlink inside the images folder must not lead outside it.
  if (!real.startsWith(root + sep)) return refuse(403, 'path leaves the images folder');
  if (!statSync(real).isFile()) return refuse(404, 'not a file');
  return { ok: true, path: real, mime };
}
