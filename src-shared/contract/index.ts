// The contract shared by main, preload and renderer: schemas first, types inferred from them.
export * from './errors';
export * from './common';
export * from './app';
export * from './settings';
export * from './jobs';
export * from './history';
export * from './models';
export * from './batch';
export * from './images';
export * from './lora';
export * from './events';
export * from './routes';
export * from './route-names';
