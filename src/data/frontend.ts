// The front ends that turn raw files into sequences of vectors; a checkpoint saves its own,
// so a model predicts on exactly the features it was trained on.
import type { AudioFrontEnd } from './audio/speech.js';

export type FrontEnd = AudioFrontEnd;

/** One line for `qkv info`. */
export function describeFrontEnd(fe: FrontEnd): string {
  return `log-mel: ${fe.numMelBins} mel filters (${fe.lowFreq} Hz to ${fe.highFreq <= 0 ? `Nyquist${fe.highFreq ? ` ${fe.highFreq}` : ''}` : `${fe.highFreq} Hz`}), `
    + `${fe.frameLengthMs} ms ${fe.window} windows every ${fe.frameShiftMs} ms at ${fe.sampleRate} Hz, pre-emphasis ${fe.preemphasis}, `
    + `log floor ${fe.floor.toExponential(3)}, normalisation ${fe.normalize}; resampling: ${fe.resampler}`;
}
