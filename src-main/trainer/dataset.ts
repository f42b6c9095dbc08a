// A LoRA dataset folder: images with same-name .txt captions (kohya's layout), plus a trigger word
// that is put in front of every caption that does not already contain it. Everything is checked
// before training starts and every problem is reported at once, naming the files.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'];
export const DEFAULT_MIN_IMAGES = 3;

export interface DatasetItem {
  /** File name without the extension (the caption file shares it). */
  name: string;
  image: string;
  /** The caption as written in the .txt file. */
  rawCaption: string;
  /** The caption used for training (with the trigger word). */
  caption: string;
  imageSha256: string;
}

export interface Dataset {
  dir: string;
  items: DatasetItem[];
  /** sha256 over (name, image sha256, caption) of every item: identifies the training data. */
  hash: string;
}

export class DatasetError extends Error {
  constructor(
    readonly problems: string[],
    dir: string,
  ) {
    super(`the dataset ${dir} cannot be used:\n  - ${problems.join('\n  - ')}`);
  }
}

export function withTrigger(caption: string, trigger: string | undefined): string {
  const c = caption.trim();
  const t = trigger?.trim();
  if (!t) return c;
  if (c.toLowerCase().includes(t.toLowerCase())) return c;
  return c ? `${t}, ${c}` : t;
}

export interface ScanOptions {
  trigger?: string;
  minImages?: number;
}

export interface DatasetInspection {
  dir: string;
  /** Usable items (readable image and a caption file). */
  items: DatasetItem[];
  /** Images found, usable or not. */
  found: number;
  /** Every problem, naming the file; empty when the folder can be trained on. */
  problems: string[];
}

/** Looks at every image of a folder and says what is usable and what is wrong (never throws for content). */
export async function inspectDataset(dir: string, opts: ScanOptions = {}): Promise<DatasetInspection> {
  const minImages = opts.minImages ?? DEFAULT_MIN_IMAGES;
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return { dir, items: [], found: 0, problems: [`${dir} is a file, not a folder of images`] };
    names = readdirSync(dir).sort();
  } catch (e) {
    return { dir, items: [], found: 0, problems: [`cannot open the folder ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`] };
  }
  const problems: string[] = [];
  const items: DatasetItem[] = [];
  let found = 0;
  for (const file of names) {
    const ext = path.extname(file).toLowerCase();
    if (!IMAGE_EXTENSIONS.includes(ext)) continue;
    found++;
    const name = file.slice(0, -ext.length);
    const image = path.join(dir, file);
    const captionFile = path.join(dir, `${name}.txt`);
    let rawCaption: string | null = null;
    try {
      rawCaption = readFileSync(captionFile, 'utf8');
    } catch {
      problems.push(`${file}: no caption file ${name}.txt (write what the image shows; the trigger word is added for you)`);
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(image);
      const meta = await sharp(bytes).metadata();
      if (!meta.width || !meta.height) throw new Error('no size');
      await sharp(bytes).raw().toBuffer(); // decode fully: a truncated file fails here, not mid-training
    } catch (e) {
      problems.push(`${file}: cannot be read as an image (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    if (rawCaption === null) continue;
    items.push({
      name,
      image,
      rawCaption,
      caption: withTrigger(rawCaption, opts.trigger),
      imageSha256: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  if (found < minImages) {
    problems.unshift(`found ${found} image${found === 1 ? '' : 's'} (${IMAGE_EXTENSIONS.join(', ')}); a LoRA needs at least ${minImages} (10–30 is typical)`);
  }
  return { dir, items, found, problems };
}

export async function scanDataset(dir: string, opts: ScanOptions = {}): Promise<Dataset> {
  const { items, problems } = await inspectDataset(dir, opts);
  if (problems.length) throw new DatasetError(problems, dir);
  const h = createHash('sha256');
  for (const it of items) h.update(`${it.name}\0${it.imageSha256}\0${it.caption}\0`);
  return { dir, items, hash: h.digest('hex') };
}
