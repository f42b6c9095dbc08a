// Messages between the queue (main thread) and a worker. Every message names its job.
export type ToWorker =
  | { type: 'run'; jobId: string; kind: string; params: unknown }
  | { type: 'cancel'; jobId: string };

export type FromWorker =
  | { type: 'progress'; jobId: string; done: number; total: number; stage: string }
  | { type: 'preview'; jobId: string; png: Uint8Array }
  | { type: 'log'; jobId: string; message: string }
  | { type: 'result'; jobId: string; result: unknown }
  | { type: 'error'; jobId: string; message: string; unknownKind?: boolean }
  | { type: 'cancelled'; jobId: string };
