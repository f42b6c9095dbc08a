// LoRA training (issue 7): the public surface for the job handler, the CLI and tests.
export { runTraining, loraMetadata } from './run';
export type { TrainOptions, TrainResult, TrainHooks } from './run';
export { DEFAULT_SETTINGS, resolveSettings, SettingsError } from './settings';
export type { TrainSettings } from './settings';
export { scanDataset, inspectDataset, DatasetError, withTrigger } from './dataset';
export type { DatasetInspection, DatasetItem } from './dataset';
export { readLoraFile, decodeLoraFile, encodeLoraFile } from './lora-file';
export { DiskWriteError } from './atomic-write';
export { GradientGraph } from './gradients';
export { LoraLoop } from './loop';
