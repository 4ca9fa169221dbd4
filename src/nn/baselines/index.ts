// The lecture's baselines for self-attention: a fully-connected network (one position), a CNN
// (a fixed, small receptive field) and an RNN (positions one after another), each a
// SequenceEncoder with the same inputs and outputs as a self-attention stack.
export { FCEncoder, type FCEncoderOptions } from './fc.js';
export { WindowFCEncoder, type WindowFCEncoderOptions } from './window-fc.js';
export { CNNEncoder, type CNNEncoderOptions } from './cnn.js';
export { RNNEncoder, type RNNEncoderOptions } from './rnn.js';
export { GRU, LSTM, type RecurrentOptions, type RecurrentForwardOptions } from './recurrent.js';
export { Conv1d, type Conv1dModuleOptions } from '../conv.js';
