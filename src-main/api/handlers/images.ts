// Image routes: the parameters stored in a PNG the person drops on the studio, read with the
// engine's own metadata reader (the same code that writes them), so both sides agree.
import type { ImageParameters } from '../../../src-shared/contract';
import { ApiError } from '../../../src-shared/contract';
import { readMetadata } from '../../engine/image/metadata';

export function readImageParameters(png: Uint8Array): ImageParameters {
  let read: ReturnType<typeof readMetadata>;
  try {
    read = readMetadata(png);
  } catch (error) {
    throw new ApiError('VALIDATION', `cannot read this PNG: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    parameters: read.parameters
      ? { prompt: read.parameters.prompt, negativePrompt: read.parameters.negativePrompt, params: { ...read.parameters.params } }
      : null,
    atelier: read.atelier ? (JSON.parse(JSON.stringify(read.atelier)) as Record<string, unknown>) : null,
    keys: Object.keys(read.raw),
  };
}

export function imagesHandlers() {
  return {
    'images.readParameters': ({ png }: { png: string }) =>
      readImageParameters(new Uint8Array(Buffer.from(png.slice(png.indexOf(',') + 1), 'base64'))),
  };
}
