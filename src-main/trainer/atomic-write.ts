// Crash-safe file writes: write a temp file in the same folder, fsync it, rename it over the target,
// fsync the folder. A reader (or a resume after kill -9) sees the old file or the new one, never a
// torn one. The `io` hook lets tests make the disk "fill up" (throw ENOSPC) at a chosen write.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface WriteIo {
  /** Writes `data` to the open file `fd` at `position`; returns bytes written (like fs.writeSync). */
  write(fd: number, data: Uint8Array, position: number): number;
}

export const realIo: WriteIo = {
  write: (fd, data, position) => writeSync(fd, data, 0, data.length, position),
};

export class DiskWriteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export function writeFileAtomic(target: string, data: Uint8Array, io: WriteIo = realIo): void {
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'w');
    let at = 0;
    while (at < data.length) at += io.write(fd, data.subarray(at, Math.min(data.length, at + (1 << 20))), at);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, target);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    rmSync(temp, { force: true });
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOSPC' ? 'the disk is full' : err.message;
    throw new DiskWriteError(`could not write ${target}: ${why}`, err.code);
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some platforms (Windows) cannot fsync a folder; the rename itself is still atomic.
  }
}
