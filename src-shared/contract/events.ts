// Events pushed from the core to the renderer (IPC in Electron, the WebSocket in browser mode).
import { z } from 'zod';
import { JobEvent } from './jobs';

export const AtelierEvent = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('jobs.event'), data: JobEvent }),
]);
export type AtelierEvent = z.infer<typeof AtelierEvent>;
