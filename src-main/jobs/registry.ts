// Which module handles which job kind. Modules load lazily and only inside the worker, so the main
// thread never pulls in the engine. A handler module exports `handlers: HandlerTable` keyed by kind;
// the worker keeps modules loaded between jobs, so module-level caches (a loaded model) survive.
//
// Adding a module is one line in `modules` below.
import type { HandlerTable, JobHandler } from './types';

type ModuleEntry = readonly [kinds: readonly string[], load: () => Promise<{ handlers: HandlerTable }>];

const modules: readonly ModuleEntry[] = [
  [['diagnostics.count', 'diagnostics.fail', 'diagnostics.spin', 'diagnostics.crash'], () => import('./handlers/diagnostics')],
  [['image.generate', 'image.edit', 'image.inpaint', 'image.outpaint'], () => import('./handlers/generate')],
  [['batch.run'], () => import('../batch/job')],
  [['lora.train', 'lora.try'], () => import('./handlers/train-lora')],
];

/** Every kind the queue accepts. */
export const jobKinds: ReadonlySet<string> = new Set(modules.flatMap(([kinds]) => kinds));

/** The handler for a kind (inside the worker). */
export async function loadHandler(kind: string): Promise<JobHandler<unknown, unknown> | null> {
  const entry = modules.find(([kinds]) => kinds.includes(kind));
  if (!entry) return null;
  const { handlers } = await entry[1]();
  const handler = handlers[kind];
  if (!handler) throw new Error(`The module for ${kind} does not export a handler for it`);
  return handler as JobHandler<unknown, unknown>;
}
