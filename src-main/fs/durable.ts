// Durable file writes shared by the store and the exporters: a file appears under its final name
// only complete and on disk. Bytes go to a temp file in the same folder (its name carries the
// writer's pid), which is fsync'd, renamed over the final name, and the folder fsync'd. A later run
// tells the temp files of writers that died from those of writers still at work by that pid.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (error) {
    // Windows cannot open folders; NTFS metadata is journaled, so there is nothing to do.
    if (process.platform === 'win32') return;
    throw error;
  }
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    fs.closeSync(fd);
  }
}

/** mkdir -p that also makes each new folder's entry durable in its parent. */
export function ensureDirectoryDurably(dir: string): void {
  if (fs.existsSync(dir)) return;
  const parent = path.dirname(dir);
  if (parent !== dir) ensureDirectoryDurably(parent);
  try {
    fs.mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  fsyncDirectory(parent);
}

function tempPathIn(dir: string, tempPrefix: string): string {
  return path.join(dir, `${tempPrefix}${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Writes `data` to `file` atomically and durably, replacing what is there; the temp file is `tempPrefix<pid>-…`. */
export function writeThroughTemp(file: string, data: Uint8Array, tempPrefix: string): void {
  const dir = path.dirname(file);
  ensureDirectoryDurably(dir);
  const temp = tempPathIn(dir, tempPrefix);
  const fd = fs.openSync(temp, 'wx');
  try {
    try {
      let offset = 0;
      while (offset < data.byteLength) offset += fs.writeSync(fd, data, offset, data.byteLength - offset);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fsyncDirectory(dir);
}

/**
 * writeThroughTemp off the main thread (libuv's pool does the write and fsyncs). With
 * `syncDir: false` the caller fsyncs the folder itself (once for many files).
 */
export async function writeThroughTempAsync(file: string, data: Uint8Array, tempPrefix: string, options: { syncDir?: boolean } = {}): Promise<void> {
  const dir = path.dirname(file);
  ensureDirectoryDurably(dir);
  const temp = tempPathIn(dir, tempPrefix);
  const handle = await fs.promises.open(temp, 'wx');
  try {
    try {
      await handle.writeFile(data);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, file);
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
  if (options.syncDir !== false) fsyncDirectory(dir);
}

/** Whether process `pid` on this machine is running (this process always is). */
export function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the temp file `name` (`tempPrefix<pid>-…`) was left by a writer that is no longer running. */
export function tempWriterIsGone(name: string, tempPrefix: string): boolean {
  const pid = Number(name.slice(tempPrefix.length).split('-')[0]);
  return !(Number.isInteger(pid) && pid > 0 && processIsAlive(pid));
}
