// The front ends that turn raw files into sequences of vectors; a checkpoint saves its own,
// so a model predicts on exactly the features it was trained on.
import type { AudioFrontEnd } from './audio/speech.js';
import type { ImageFrontEnd } from './image/pixels.js';

export type FrontEnd = AudioFrontEnd | ImageFrontEnd;

/** One line for `qkv info`. */
export function describeFrontEnd(fe: FrontEnd): string {
  if (fe.kind === 'image') {
    return `image: ${fe.width}×${fe.height} ${fe.channels === 1 ? 'gray' : 'RGB'}${fe.resize ? ' (bilinear resize)' : ' (other sizes refused)'}, `
      + `normalised (x - [${fe.mean.join(', ')}]) / [${fe.std.join(', ')}]; PNG (pngjs) and JPEG (jpeg-js)`;
  }
  return `log-mel: ${fe.numMelBins} mel filters (${fe.lowFreq} Hz to ${fe.highFreq <= 0 ? `Nyquist${fe.highFreq ? ` ${fe.highFreq}` : ''}` : `${fe.highFreq} Hz`}), `
    + `${fe.frameLengthMs} ms ${fe.window} windows every ${fe.frameShiftMs} ms at ${fe.sampleRate} Hz, pre-emphasis ${fe.preemphasis}, `
    + `log floor ${fe.floor.toExponential(3)}, normalisation ${fe.normalize}; resampling: ${fe.resampler}`;
}
