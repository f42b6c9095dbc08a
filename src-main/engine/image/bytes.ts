// Byte-buffer helpers shared by the hand-written file formats (PNG chunks, EXIF, RIFF).

/** The parts laid end to end in one new buffer. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
