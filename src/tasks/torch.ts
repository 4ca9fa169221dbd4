// The hand-off to PyTorch: a trained model's state dict under PyTorch's names (qkv's names are
// already nanoGPT's for the GPT and torch.nn.Transformer's for seq2seq) and a config JSON that
// scripts/torch_handoff.py turns into nanoGPT's GPT or an nn.Transformer model.
import { QkvError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TaskInstance } from './driver.js';
import type { LmInstance } from './lm.js';
import type { Seq2SeqInstance } from './seq2seq.js';

export interface TorchHandoff {
  tensors: Map<string, Tensor>;
  /** config.json: `kind` says which PyTorch model the script builds. */
  config: Record<string, unknown>;
}

/** The state dict and config of an lm (nanoGPT GPT) or seq2seq (nn.Transformer) model; one line otherwise. */
export function exportTorch(instance: TaskInstance): TorchHandoff {
  const task = (instance.config as { task?: string }).task;
  if (task === 'lm') {
    const m = instance as LmInstance;
    const c = m.model.config;
    if (c.attention !== 'softmax') throw new QkvError(`GPT: ${c.attention} attention has no nanoGPT counterpart; --torch exports softmax-attention GPTs`);
    return {
      tensors: m.model.stateDict(),
      config: {
        kind: 'nanogpt', task, n_layer: c.nLayer, n_head: c.nHead, n_embd: c.nEmbd, block_size: c.blockSize, vocab_size: c.vocabSize,
        bias: c.bias, dropout: c.dropout, vocab: m.config.vocab, tokenize: m.config.tokenize,
      },
    };
  }
  if (task === 'seq2seq') {
    const m = instance as Seq2SeqInstance;
    const c = m.model.config;
    if (c.attention !== 'softmax') throw new QkvError(`Seq2SeqModel: ${c.attention} attention has no torch.nn.Transformer counterpart; --torch exports softmax attention`);
    if (c.pos === 'rope') throw new QkvError('Seq2SeqModel: RoPE has no torch.nn.Transformer counterpart; --torch exports sinusoidal, learned or no positions');
    return {
      tensors: m.model.stateDict(),
      config: {
        kind: 'transformer', task, d_model: c.dModel, nhead: c.heads, num_encoder_layers: c.layers, num_decoder_layers: c.layers,
        dim_feedforward: c.ff, dropout: c.dropout, activation: 'relu', norm_first: c.normFirst, pos: c.pos, max_len: c.maxLen,
        src_vocab_size: m.model.srcVocab, tgt_vocab_size: m.model.tgtVocab, source: m.config.source, target: m.config.target, tokenize: m.config.tokenize,
      },
    };
  }
  throw new QkvError(`--torch: a ${String(task)} model has no PyTorch hand-off script yet (lm -> nanoGPT's GPT, seq2seq -> nn.Transformer)`);
}
