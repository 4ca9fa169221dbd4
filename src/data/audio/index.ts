// Speech input: WAV decoding, resampling, the log-mel (Kaldi fbank) front end, WAV lists.
export { parseWav, toMono, encodeWav, type Wav } from './wav.js';
export { resample, type ResampleOptions } from './resample.js';
export { logMel, melFilters, windowFunction, frameGeometry, numFrames, normalizeUtterance, DEFAULT_LOG_MEL, WINDOW_KINDS, type LogMelConfig, type WindowKind } from './fbank.js';
export { audioFrontEnd, wavFeatures, readWavList, RESAMPLER, type AudioFrontEnd, type WavListOptions } from './speech.js';
export { whisperLogMel, whisperMelFilters, whisperFeatureConfigFromJson, type WhisperFeatureConfig } from './whisper-features.js';
