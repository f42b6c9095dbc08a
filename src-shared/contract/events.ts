// Events pushed from the core to the renderer (IPC in Electron, the WebSocket in browser mode).
import { z } from 'zod';
import { PngDataUrl } from './common';
import { JobEvent } from './jobs';

export const AtelierEvent = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('jobs.event'), data: JobEvent }),
  /** The person opened an image through the host (the desktop File menu); the canvas takes it. */
  z.strictObject({ name: z.literal('app.imageOpened'), data: z.strictObject({ name: z.string(), png: PngDataUrl }) }),
]);
export type AtelierEvent = z.infer<typeof AtelierEvent>;
