// The assets table and its files. Rule: a file is complete on disk before any row names it, and a
// file is removed only while holding the write lock after checking that no row names it, so a
// writer in another process either sees the file gone (and writes it again) or keeps it alive.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from './database';
import {
  IMAGES_FOLDER,
  pngSize,
  relativeAssetPath,
  removeAbandonedTempFiles,
  scanImages,
  sha256Hex,
  sniffMime,
  writeFileDurably,
} from './files';
import { StoreError, type Asset, type AssetMeta, type AssetStore } from './types';

/** An assets row as SQLite returns it. */
export interface AssetRow {
  sha256: string;
  path: string;
  bytes: number;
  width: number | null;
  height: number | null;
  mime: string;
  created_at: number;
}

export function assetFromRow(row: AssetRow): Asset {
  return {
    sha256: row.sha256,
    path: row.path,
    bytes: row.bytes,
    width: row.width,
    height: row.height,
    mime: row.mime,
    createdAt: row.created_at,
  };
}

/** Bytes already written durably, waiting for their row (see AssetFiles.record). */
export interface PreparedAsset {
  sha256: string;
  relativePath: string;
  data: Uint8Array;
  width: number | null;
  height: number | null;
  mime: string;
}

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const DEFAULT_GRACE_MS = 60 * 60 * 1000;

export class AssetFiles implements AssetStore {
  readonly dir: string;
  private readonly selectOne;
  private readonly insert;
  private readonly isReferenced;
  private readonly deleteOne;
  private readonly selectUnreferencedBefore;

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {
    this.dir = path.join(dataDir, IMAGES_FOLDER);
    this.selectOne = db.prepare<[string], AssetRow>('SELECT * FROM assets WHERE sha256 = ?');
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO assets (sha256, path, bytes, width, height, mime, created_at)
       VALUES (@sha256, @path, @bytes, @width, @height, @mime, @created_at)`,
    );
    this.isReferenced = db.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM generation_assets WHERE asset_sha256 = ? LIMIT 1',
    );
    this.deleteOne = db.prepare('DELETE FROM assets WHERE sha256 = ?');
    this.selectUnreferencedBefore = db.prepare<[number], AssetRow>(
      `SELECT * FROM assets a WHERE a.created_at < ?
         AND NOT EXISTS (SELECT 1 FROM generation_assets ga WHERE ga.asset_sha256 = a.sha256)`,
    );
  }

  absolutePath(asset: Pick<Asset, 'path'>): string {
    return path.join(this.dataDir, ...asset.path.split('/'));
  }

  get(sha256: string): Asset | null {
    const row = this.selectOne.get(sha256);
    return row ? assetFromRow(row) : null;
  }

  read(sha256: string): Buffer {
    const asset = this.get(sha256);
    if (!asset) throw new StoreError('NOT_FOUND', `No asset ${sha256}`);
    return fs.readFileSync(this.absolutePath(asset));
  }

  put(data: Uint8Array, meta: AssetMeta = {}): Asset {
    const prepared = this.prepare(data, meta);
    return this.db.transaction(() => this.record(prepared)).immediate();
  }

  /** Hashes the bytes and writes their file durably. Call outside a transaction, then record(). */
  prepare(data: Uint8Array, meta: AssetMeta = {}): PreparedAsset {
    if (!(data instanceof Uint8Array) || data.byteLength === 0) {
      throw new StoreError('INVALID', 'An image must be a non-empty Uint8Array');
    }
    const sha256 = sha256Hex(data);
    const existing = this.selectOne.get(sha256);
    const mime = existing?.mime ?? meta.mime ?? sniffMime(data) ?? 'application/octet-stream';
    const size = pngSize(data);
    const prepared: PreparedAsset = {
      sha256,
      relativePath: existing?.path ?? relativeAssetPath(sha256, mime),
      data,
      width: meta.width ?? size?.width ?? null,
      height: meta.height ?? size?.height ?? null,
      mime,
    };
    writeFileDurably(this.absolutePath({ path: prepared.relativePath }), data, sha256);
    return prepared;
  }

  /** Inside a write transaction: makes sure the file is still there, then the row. */
  record(prepared: PreparedAsset): Asset {
    const file = this.absolutePath({ path: prepared.relativePath });
    // Another process may have removed an unreferenced copy since prepare(); we hold the lock now.
    if (!fs.existsSync(file)) writeFileDurably(file, prepared.data, prepared.sha256);
    this.insert.run({
      sha256: prepared.sha256,
      path: prepared.relativePath,
      bytes: prepared.data.byteLength,
      width: prepared.width,
      height: prepared.height,
      mime: prepared.mime,
      created_at: Date.now(),
    });
    return assetFromRow(this.selectOne.get(prepared.sha256)!);
  }

  /** Existing asset by hash, for linking; throws a clear error when unknown. */
  require(sha256: string): Asset {
    if (!SHA256_PATTERN.test(sha256)) throw new StoreError('INVALID', `Not a sha256: ${JSON.stringify(sha256)}`);
    const asset = this.get(sha256);
    if (!asset) throw new StoreError('NOT_FOUND', `No asset ${sha256}`);
    return asset;
  }

  /**
   * Drops the rows and files of these assets that no generation references any more. Runs in its
   * own write transaction, after the one that removed the references has committed.
   */
  removeIfUnreferenced(sha256s: Iterable<string>): { sha256: string; path: string }[] {
    const removed: { sha256: string; path: string }[] = [];
    this.db
      .transaction(() => {
        for (const sha256 of new Set(sha256s)) {
          if (this.isReferenced.get(sha256)) continue;
          const row = this.selectOne.get(sha256);
          if (!row) continue;
          this.deleteOne.run(sha256);
          fs.rmSync(this.absolutePath(row), { force: true });
          removed.push({ sha256, path: row.path });
        }
      })
      .immediate();
    return removed;
  }

  collectGarbage(options: { graceMs?: number } = {}): { removedFiles: string[] } {
    const before = Date.now() - (options.graceMs ?? DEFAULT_GRACE_MS);
    const unreferenced = this.selectUnreferencedBefore.all(before).map((row) => row.sha256);
    const removedFiles = this.removeIfUnreferenced(unreferenced).map((removed) => removed.path);
    const known = new Set(this.db.prepare<[], { path: string }>('SELECT path FROM assets').all().map((r) => r.path));
    const strays: string[] = [];
    scanImages(this.dataDir, (file) => {
      if (!known.has(file.relativePath) && file.mtimeMs < before) strays.push(file.relativePath);
    });
    const byPath = this.db.prepare<[string], { one: number }>('SELECT 1 AS one FROM assets WHERE path = ?');
    this.db
      .transaction(() => {
        for (const relativePath of strays) {
          if (byPath.get(relativePath)) continue;
          fs.rmSync(this.absolutePath({ path: relativePath }), { force: true });
          removedFiles.push(relativePath);
        }
      })
      .immediate();
    removeAbandonedTempFiles(this.dataDir);
    return { removedFiles };
  }
}
