// Small building blocks reused by several domains.
import { z } from 'zod';

/** Store ids are UUID v4 strings. */
export const Id = z.uuid();

/** Milliseconds since the Unix epoch (UTC). */
export const Timestamp = z.int().min(0);

/** Routes that take no input accept nothing at all (a missing argument). */
export const NoInput = z.undefined();

/** A 32-bit unsigned seed, the range every sampler in the engine accepts. */
export const Seed = z.int().min(0).max(0xffff_ffff);

/** A PNG carried inline (previews, masks and reference images sent from the canvas). */
export const PngDataUrl = z
  .string()
  .max(16 * 1024 * 1024)
  .regex(/^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/, 'expected a base64 PNG data URL');
