// A small zip writer (no dependency): entries are stored (images are compressed already) or
// deflated (manifests), streamed one at a time to a temp file that is fsync'd and renamed into
// place, so a crash leaves no half-written zip. Names are UTF-8 (general-purpose flag bit 11).
// Without ZIP64 a zip holds < 65,535 entries and < 4 GiB; larger exports get a clear error.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { fsyncDirectory } from '../fs/durable';
import { TEMP_PREFIX } from './files';

export interface ZipEntry {
  /** Path inside the zip, forward slashes. */
  name: string;
  /** The bytes, or a file to read them from (read when its turn comes). */
  data?: Uint8Array;
  file?: string;
  /** Deflate it (text); default: store. */
  deflate?: boolean;
  mtime?: Date;
}

const LIMIT_32 = 0xffff_ffff;

function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

function checkName(name: string): Buffer {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw new Error(`refusing to put '${name}' in a zip: entry names must be relative paths without '..'`);
  }
  return Buffer.from(name, 'utf8');
}

/** Writes the zip at `zipPath` (atomically); returns its size in bytes. */
export function writeZip(zipPath: string, entries: ZipEntry[]): number {
  if (entries.length >= 0xffff) throw new Error(`a zip holds at most 65,534 files here (got ${entries.length}); export in parts`);
  const dir = path.dirname(zipPath);
  const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = fs.openSync(temp, 'wx');
  const central: Buffer[] = [];
  let offset = 0;
  const write = (b: Uint8Array) => {
    let done = 0;
    while (done < b.byteLength) done += fs.writeSync(fd, b, done, b.byteLength - done);
    offset += b.byteLength;
  };
  try {
    const seen = new Set<string>();
    for (const entry of entries) {
      const name = checkName(entry.name);
      if (seen.has(entry.name)) throw new Error(`duplicate zip entry '${entry.name}'`);
      seen.add(entry.name);
      const raw = entry.data ?? (entry.file ? fs.readFileSync(entry.file) : null);
      if (!raw) throw new Error(`zip entry '${entry.name}' has no data`);
      const body = entry.deflate ? deflateRawSync(raw) : raw;
      const method = entry.deflate ? 8 : 0;
      const crc = crc32(raw);
      if (offset + body.byteLength > LIMIT_32) throw new Error('the zip would pass 4 GiB; export in parts or without --zip');
      const { time, date } = dosDateTime(entry.mtime ?? new Date());
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4); // version needed
      local.writeUInt16LE(0x0800, 6); // UTF-8 names
      local.writeUInt16LE(method, 8);
      local.writeUInt16LE(time, 10);
      local.writeUInt16LE(date, 12);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.byteLength, 18);
      local.writeUInt32LE(raw.byteLength, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(0, 28);
      const headerAt = offset;
      write(local);
      write(name);
      write(body);
      const cd = Buffer.alloc(46);
      cd.writeUInt32LE(0x02014b50, 0);
      cd.writeUInt16LE(0x031e, 4); // made by: Unix, spec 3.0
      cd.writeUInt16LE(20, 6);
      cd.writeUInt16LE(0x0800, 8);
      cd.writeUInt16LE(method, 10);
      cd.writeUInt16LE(time, 12);
      cd.writeUInt16LE(date, 14);
      cd.writeUInt32LE(crc, 16);
      cd.writeUInt32LE(body.byteLength, 20);
      cd.writeUInt32LE(raw.byteLength, 24);
      cd.writeUInt16LE(name.length, 28);
      cd.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
      cd.writeUInt32LE(headerAt, 42);
      central.push(cd, name);
    }
    const cdStart = offset;
    for (const b of central) write(b);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(offset - cdStart, 12);
    end.writeUInt32LE(cdStart, 16);
    write(end);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(temp, zipPath);
  } catch (error) {
    try {
      fs.closeSync(fd);
    } catch {
      // closed already
    }
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fsyncDirectory(dir);
  return offset;
}

/** Lists a zip's entries (name, sizes, crc), reading the central directory; for tests and checks. */
export function readZipEntries(bytes: Uint8Array): { name: string; crc32: number; size: number; compressedSize: number; method: number; data: Uint8Array }[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    const compressedSize = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const localAt = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    const dataAt = localAt + 30 + buf.readUInt16LE(localAt + 26) + buf.readUInt16LE(localAt + 28);
    out.push({ name, crc32: crc, size, compressedSize, method, data: buf.subarray(dataAt, dataAt + compressedSize) });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}
