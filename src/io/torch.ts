// The hand-off to PyTorch: a trained model's state dict under PyTorch's names (qkv's names are
// already nanoGPT's for the GPT and torch.nn.Transformer's for seq2seq) and a config JSON that
// scripts/torch_handoff.py turns into nanoGPT's GPT or an nn.Transformer model.
import { QkvError } from '../core/errors.js';
import { attentionKind } from '../nn/attention/kinds/index.js';
import { GPT } from '../nn/models/gpt.js';
import { Seq2SeqModel } from '../nn/models/seq2seq.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';

/** A task's model and its config.json (a TaskInstance: the fields the hand-off copies are the task's vocabulary and tokenization). */
export interface TorchExportable {
  readonly config: { task: string } & Record<string, unknown>;
  readonly model: Module;
}

export interface TorchHandoff {
  tensors: Map<string, Tensor>;
  /** config.json: `kind` says which PyTorch model the script builds. */
  config: Record<string, unknown>;
}

/** The state dict and config of an lm (nanoGPT GPT) or seq2seq (nn.Transformer) model; one line otherwise. */
export function exportTorch(instance: TorchExportable): TorchHandoff {
  const task = instance.config.task;
  const model = instance.model;
  const saved = instance.config;
  if (task === 'lm' && model instanceof GPT) {
    const c = model.config;
    if (!attentionKind(c.attention, 'GPT').pytorch) throw new QkvError(`GPT: ${c.attention} attention has no nanoGPT counterpart; --torch exports softmax-attention GPTs`);
    return {
      tensors: model.stateDict(),
      config: {
        kind: 'nanogpt', task, n_layer: c.nLayer, n_head: c.nHead, n_embd: c.nEmbd, block_size: c.blockSize, vocab_size: c.vocabSize,
        bias: c.bias, dropout: c.dropout, vocab: saved.vocab, tokenize: saved.tokenize,
      },
    };
  }
  if (task === 'seq2seq' && model instanceof Seq2SeqModel) {
    const c = model.config;
    if (!attentionKind(c.attention, 'Seq2SeqModel').pytorch) throw new QkvError(`Seq2SeqModel: ${c.attention} attention has no torch.nn.Transformer counterpart; --torch exports softmax attention`);
    if (c.pos === 'rope') throw new QkvError('Seq2SeqModel: RoPE has no torch.nn.Transformer counterpart; --torch exports sinusoidal, learned or no positions');
    return {
      tensors: model.stateDict(),
      config: {
        kind: 'transformer', task, d_model: c.dModel, nhead: c.heads, num_encoder_layers: c.layers, num_decoder_layers: c.layers,
        dim_feedforward: c.ff, dropout: c.dropout, activation: 'relu', norm_first: c.normFirst, pos: c.pos, max_len: c.maxLen,
        src_vocab_size: model.srcVocab, tgt_vocab_size: model.tgtVocab, source: saved.source, target: saved.target, tokenize: saved.tokenize,
      },
    };
  }
  throw new QkvError(`--torch: a ${String(task)} model has no PyTorch hand-off script yet (lm -> nanoGPT's GPT, seq2seq -> nn.Transformer)`);
}
