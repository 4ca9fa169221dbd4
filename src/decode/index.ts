// Decoding: sampling the next token (temperature, top-k, top-p) and searching for a whole
// output (greedy, beam search) over any model that scores the next token.
export { sampleNext, nextTokenDistribution, argmaxIndex, type SampleOptions } from './sample.js';
export { greedyDecode, beamSearch, type StepFn, type DecodeOptions, type DecodeResult, type BeamSearchOptions, type BeamHypothesis } from './search.js';
