// Writing export files so that a crash never leaves a half-written file under a real name: bytes go
// to a temp file in the same folder (named with the writer's pid), which is fsync'd, renamed onto the
// final name, and the folder fsync'd (../fs/durable). Temp files of writers that died are removed on
// the next run.
import fs from 'node:fs';
import path from 'node:path';
import { tempWriterIsGone, writeThroughTemp, writeThroughTempAsync } from '../fs/durable';

export const TEMP_PREFIX = '.atelier-tmp-';

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/** Writes `data` to `file` atomically and durably, replacing what is there. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  writeThroughTemp(file, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, TEMP_PREFIX);
}

/** Removes temp files left under `root` (recursively) by writers that are no longer running. */
export function removeStaleTempFiles(root: string): string[] {
  const removed: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < 8) walk(full, depth + 1);
      else if (entry.isFile() && isTempName(entry.name)) {
        if (!tempWriterIsGone(entry.name, TEMP_PREFIX)) continue;
        fs.rmSync(full, { force: true });
        removed.push(full);
      }
    }
  };
  walk(root, 0);
  return removed;
}

/**
 * A relative path not yet taken: `name.png`, else `name-2.png`, `name-3.png`, … `taken` says whether
 * a candidate is in use (on disk or reserved by another item); compare case-insensitively so two
 * names never collide on macOS or Windows.
 */
export function firstFreeName(relativePath: string, taken: (candidate: string) => boolean): string {
  if (!taken(relativePath)) return relativePath;
  const ext = path.posix.extname(relativePath);
  const base = relativePath.slice(0, relativePath.length - ext.length);
  for (let n = 2; n < 100_000; n++) {
    const candidate = `${base}-${n}${ext}`;
    if (!taken(candidate)) return candidate;
  }
  throw new Error(`no free file name near ${relativePath}`);
}

/** The key two names collide under on a case-insensitive file system. */
export function nameKey(relativePath: string): string {
  return relativePath.normalize('NFC').toLowerCase();
}

/**
 * writeFileAtomic off the main thread (libuv's pool does the write and fsyncs), so a batch keeps the
 * engine busy while the previous image is saved. With `syncDir: false` the caller fsyncs the folder
 * itself (once for many files) before it records the files as written.
 */
export function writeFileAtomicAsync(file: string, data: Uint8Array, options: { syncDir?: boolean } = {}): Promise<void> {
  return writeThroughTempAsync(file, data, TEMP_PREFIX, options);
}
