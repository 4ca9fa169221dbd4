// What a fine-tuning run of a Hugging Face directory takes and gives (src/run/finetune.ts runs it;
// one file per model family beside this one turns the task's data into its batches).
import type { TrainEvent, TrainerOptions } from '../../train/trainer.js';
import type { LoraConfig } from '../../nn/models/hf/lora.js';

export type FinetuneTask = 'tag' | 'classify' | 'seq2seq' | 'lm';

/** seq2seq (Whisper): mono samples at the feature extractor's rate and their transcript. */
export interface SpeechExample {
  audio: Float32Array;
  text: string;
  /** Where it came from (for errors). */
  source?: string;
}

export interface FinetuneOptions {
  /** A save_pretrained directory. */
  from: string;
  task: FinetuneTask;
  /** Examples (tag: TaggedExample, classify: ClassifiedExample, seq2seq: SpeechExample), or the text (lm). */
  train: readonly unknown[] | string;
  dev: readonly unknown[] | string;
  out: string;
  lora?: LoraConfig | null;
  trainer: TrainerOptions;
  batchSize?: number;
  /** lm: tokens per training window (default min(n_positions, 64)). */
  blockSize?: number;
  onEvent?: (e: TrainEvent) => void;
  /** Lines worth telling the user (a new head, what LoRA adapts). */
  note?: (line: string) => void;
  signal?: AbortSignal;
  /** Continue the run in `out` from `out/last` (same batches, dropout masks and optimizer state). */
  resume?: boolean;
}

export interface FinetuneResult {
  out: string;
  steps: number;
  best: number | null;
  metrics: Record<string, number>;
  trainable: number;
  total: number;
  /** The new head's labels when the data's labels were not the model's. */
  newHead: string[] | null;
  /** Modules carrying LoRA adapters. */
  adapted: string[];
}
