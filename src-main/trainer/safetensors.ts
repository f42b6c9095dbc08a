// The .safetensors container: an 8-byte little-endian header length, a JSON header (tensor name →
// dtype, shape, byte offsets into the data; `__metadata__` → string map), then the raw little-endian
// data. LoRA files and checkpoints only hold float32 tensors, so that is all this reads and writes.

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {}

const MAX_HEADER = 100 * 1024 * 1024;

/** Serialises tensors (in the given order) and string metadata. */
export function encodeSafetensors(tensors: Iterable<[string, NamedTensor]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header['__metadata__'] = metadata;
  const list = [...tensors];
  let offset = 0;
  for (const [name, t] of list) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new SafetensorsError(`tensor ${name}: shape [${t.shape.join(', ')}] does not hold ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (what the reference writer does).
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - ((8 + headerBytes.length) % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of list) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, at); // little-endian hosts only (x86, arm64), like onnxruntime-node itself
    at += bytes.length;
  }
  return out;
}

/** Parses and checks a whole file; any inconsistency is a SafetensorsError naming `source`. */
export function decodeSafetensors(buf: Uint8Array, source = 'file'): SafetensorsFile {
  if (buf.length < 8) throw new SafetensorsError(`${source} is not a .safetensors file (only ${buf.length} bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > buf.length) {
    throw new SafetensorsError(`${source} is not a .safetensors file or is truncated (header length ${headerLen}, file ${buf.length} bytes)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch {
    throw new SafetensorsError(`${source} has an unreadable header (not a .safetensors file, or corrupted)`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, NamedTensor>();
  let covered = 0;
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) metadata[k] = String(v);
      continue;
    }
    const e = entry as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!e || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) throw new SafetensorsError(`${source}: tensor ${name} has a malformed header entry`);
    if (e.dtype !== 'F32') throw new SafetensorsError(`${source}: tensor ${name} is ${e.dtype}; LoRA files here are float32 (F32)`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end <= dataLen && end - begin === 4 * count)) {
      throw new SafetensorsError(`${source}: tensor ${name} lies outside the file (truncated or corrupted)`);
    }
    // Copy: the buffer may not be 4-byte aligned, and callers keep tensors after the file is gone.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(buf.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { shape: e.shape, data });
    covered += end - begin;
  }
  if (covered !== dataLen) throw new SafetensorsError(`${source}: ${dataLen - covered} bytes of data are not covered by the header (corrupted)`);
  return { tensors, metadata };
}
