// The SequenceEncoder bodies in ONNX: AttentionEncoder and the lecture's FC, CNN and RNN baselines.
// x (B, T, inDim) -> (B, T, outDim); keyPad is bool (B, T), true = padding.
import { CNNEncoder, FCEncoder, RNNEncoder } from '../../nn/baselines/index.js';
import type { SequenceEncoder } from '../../nn/encoder.js';
import { ModuleError } from '../../nn/module.js';
import { AttentionEncoder } from '../../nn/transformer/attention-encoder.js';
import type { OnnxGraph } from './graph.js';
import { activation, conv1d, linear, unsqueeze } from './layers.js';
import { attentionEncoder } from './transformer.js';
import { rnnEncoder } from './recurrent.js';

export interface EncoderInputs {
  keyPad: string | null;
  attnMask: string | null;
  maxLen?: number;
}

function zeroPadded(g: OnnxGraph, x: string, keyPad: string | null): string {
  return keyPad ? g.op('Where', [unsqueeze(g, keyPad, [2]), g.scalar(0), x]) : x;
}

function fc(g: OnnxGraph, enc: FCEncoder, x: string, o: EncoderInputs): string {
  let h = x;
  for (const lin of enc.layers) h = activation(g, linear(g, h, lin), enc.activation);
  return zeroPadded(g, h, o.keyPad);
}

function cnn(g: OnnxGraph, enc: CNNEncoder, x: string, o: EncoderInputs): string {
  let h = x;
  for (const conv of enc.convs) {
    const input = zeroPadded(g, h, o.keyPad);
    const y = g.op('Transpose', [conv1d(g, g.op('Transpose', [input], { perm: [0, 2, 1] }), conv)], { perm: [0, 2, 1] }); // time last for Conv, then back
    const a = activation(g, y, enc.activation);
    h = enc.residual && conv.inChannels === conv.outChannels ? g.op('Add', [a, input]) : a;
  }
  return zeroPadded(g, h, o.keyPad);
}

/** Lowers any SequenceEncoder; one line naming the module and what ONNX export lacks otherwise. */
export function sequenceEncoder(g: OnnxGraph, enc: SequenceEncoder, x: string, o: EncoderInputs): string {
  if (enc instanceof AttentionEncoder) return attentionEncoder(g, enc, x, o);
  if (o.attnMask) throw new ModuleError(enc.constructor.name, 'a graph (attention) mask can only be exported with a self-attention model');
  if (enc instanceof FCEncoder) return fc(g, enc, x, o);
  if (enc instanceof CNNEncoder) return cnn(g, enc, x, o);
  if (enc instanceof RNNEncoder) return rnnEncoder(g, enc, x, o.keyPad);
  throw new ModuleError(enc.constructor.name, 'this encoder has no ONNX export');
}
