export { Rng, splitmix32, seedToUint32 } from './rng';
export { ImageCodeMask, Temperature, TopK, mixGuidance, applyProcessors } from './logits';
export type { LogitsProcessor } from './logits';
export { pairwiseSum, nucleusDistribution, pickWithUniform, argmax, sampleToken } from './categorical';
export type { SortedDistribution, TokenSamplerOptions } from './categorical';
