// Public surface of the engine (Electron-free; runs in the job worker, the CLI and the bench).
export { Engine, loadBundle } from './engine';
export type { LoadOptions } from './engine';
export { Bundle, BundleError, SUPPORTED_FORMAT_VERSION } from './bundle';
export type { BundleManifest, GraphRole } from './bundle';
export { EXECUTION_PROVIDERS, isExecutionProvider } from './runtime/providers';
export type { ExecutionProviderChoice } from './runtime/providers';
export { GraphOutputError } from './runtime/checks';
export { MaskError } from './pipelines/mask';
export { KEEP_UNCHANGED, DEFAULT_VARIATION_STRENGTH } from './pipelines/modes';
export type * from './pipelines/types';
export { readMetadata, addMetadata } from './image/metadata';
export type { AtelierMetadata, ReadMetadata, GenerationMode } from './image/metadata';
export { formatA1111, parseA1111 } from './image/a1111';
export type { A1111Parameters } from './image/a1111';
export { SAMPLER_NAMES } from './scheduler/flow-match';
export type { SamplerName } from './scheduler/flow-match';
export { ENGINE_VERSION } from './version';
export { defaultModelDir, listModels } from './models';
