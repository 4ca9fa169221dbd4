// Fine-tuning a Hugging Face directory on a qkv task (Node): BertForTokenClassification on tag
// data (a label per word, on its first WordPiece; the other pieces are ignored, as transformers'
// token-classification recipe), BertForSequenceClassification on classify data, GPT2LMHeadModel
// on a text (random windows, next-token loss), WhisperForConditionalGeneration on speech and its
// transcripts (teacher forcing from the forced decoder prefix). A new classifier is made when the data's labels
// are not the model's. Full fine-tuning writes the save_pretrained layout into `out`
// (config.json, model.safetensors, tokenizer.json); LoRA writes PEFT's adapter
// (adapter_config.json, adapter_model.safetensors; a new classifier as modules_to_save) next to
// config.json and tokenizer.json. The best model by the dev metric is what is kept; `out/last`
// holds a resumable checkpoint (model, optimizer and loop state), so `resume` continues exactly.
// Each model family's batches and dev metric are in src/run/finetune/.
import { join, resolve } from 'node:path';
import type { ClassifiedExample, TaggedExample } from '../data/types.js';
import { Trainer, type Checkpointer, type TrainingTask } from '../train/trainer.js';
import { CheckpointError, isCheckpoint, readCheckpoint, saveCheckpoint, type CheckpointRead } from '../train/checkpoint.js';
import { trainerState } from './session.js';
import { PretrainedError, ViTForImageClassification, type BertForTokenClassification, type HfModel } from '../nn/models/hf/index.js';
import { addLora, freezeForLora, type LoraConfig } from '../nn/models/hf/lora.js';
import { fromPretrained, saveAdapter, savePretrained, type Pretrained } from './pretrained.js';
import { bertTask, fitHead } from './finetune/bert.js';
import { lmTask } from './finetune/lm.js';
import type { FinetuneOptions, FinetuneResult, FinetuneTask } from './finetune/options.js';
import { vitTask } from './finetune/vit.js';
import { whisperTask } from './finetune/whisper.js';

export type { FinetuneOptions, FinetuneResult, FinetuneTask, SpeechExample } from './finetune/options.js';

const ARCH: Record<FinetuneTask, string[]> = {
  tag: ['BertForTokenClassification'], classify: ['BertForSequenceClassification', 'ViTForImageClassification'], seq2seq: ['WhisperForConditionalGeneration'], lm: ['GPT2LMHeadModel'],
};

/** What `out/last/config.json` records of a fine-tuning run: enough to rebuild the model it trains. */
const FINETUNE_FORMAT = 'qkv-hf-finetune-1';

/** The run's own model: the directory's, with the new head and the adapters the run added. */
function prepareModel(p: Pretrained, o: FinetuneOptions, newHead: string[] | null): string[] {
  if (newHead) (p.model as BertForTokenClassification | ViTForImageClassification).replaceHead(newHead);
  if (!o.lora) return [];
  const adapted = addLora(p.model, o.lora);
  freezeForLora(p.model, newHead ? ['classifier'] : []);
  return adapted;
}

/** The labels of a labelling task's data when the model does not have them all (a new head), else null. */
function headFor(p: Pretrained, o: FinetuneOptions): string[] | null {
  if (o.task === 'lm' || o.task === 'seq2seq') return null;
  const labels = new Set<string>();
  for (const e of [...(o.train as unknown[]), ...(o.dev as unknown[])]) {
    if (o.task === 'tag') for (const l of (e as TaggedExample).labels) labels.add(l);
    else labels.add((e as ClassifiedExample).label);
  }
  return fitHead(p.model as BertForTokenClassification | ViTForImageClassification, labels, o.note);
}

/** `out/last` of an earlier run of the same fine-tuning, checked against this one's options. */
function readLast(o: FinetuneOptions): CheckpointRead {
  const lastDir = join(o.out, 'last');
  if (!isCheckpoint(lastDir)) throw new CheckpointError(`--resume: ${lastDir} holds no checkpoint to resume from`);
  const ck = readCheckpoint(lastDir);
  const c = ck.config;
  const fail = (m: string) => {
    for (const t of ck.tensors.values()) t.dispose();
    if (ck.optimizer) for (const t of ck.optimizer.tensors.values()) t.dispose();
    throw new CheckpointError(`--resume: ${join(lastDir, 'config.json')}: ${m}`);
  };
  if (c.format !== FINETUNE_FORMAT) fail(`is not a fine-tuning run of a Hugging Face directory (format ${JSON.stringify(c.format ?? null)})`);
  if (c.task !== o.task) fail(`is a ${String(c.task)} run, not ${o.task}`);
  if (c.from !== resolve(o.from)) fail(`fine-tunes ${String(c.from)}, not --from ${resolve(o.from)}`);
  if (JSON.stringify(c.lora ?? null) !== JSON.stringify(o.lora ?? null)) fail(`was run with LoRA ${JSON.stringify(c.lora ?? null)}, not ${JSON.stringify(o.lora ?? null)}`);
  if (!ck.optimizer || !ck.trainer) fail('has no optimizer or trainer state');
  return ck;
}

/** Fine-tunes a save_pretrained directory on a task's data, fully or with LoRA; see the file comment. */
export async function finetunePretrained(o: FinetuneOptions): Promise<FinetuneResult> {
  const p = fromPretrained(o.from);
  const model = p.model;
  let ck: CheckpointRead | null = null;
  try {
    if (!ARCH[o.task].includes(p.architecture)) {
      throw new PretrainedError(`${o.from}/config.json`, `is a ${p.architecture}; qkv train ${o.task} --from needs a ${ARCH[o.task].join(' or a ')}`);
    }
    const vit = p.model instanceof ViTForImageClassification;
    if (vit && !p.imageProcessor) throw new PretrainedError(o.from, 'has no preprocessor_config.json (how images become pixel values)');
    if (!vit && !p.tokenizer) throw new PretrainedError(o.from, 'has no tokenizer.json (qkv reads the text through the model\'s own tokenizer)');
    let newHead: string[] | null;
    if (o.resume) {
      ck = readLast(o);
      newHead = (ck.config.newHead as string[] | null) ?? null;
    } else newHead = headFor(p, o);
    const adapted = prepareModel(p, o, newHead);
    if (o.lora) o.note?.(`LoRA r=${o.lora.r} alpha=${o.lora.alpha} on ${adapted.length} modules (${[...new Set(adapted.map((a) => a.split('.').pop()))].join(', ')})${newHead ? ' and the new classifier' : ''}; the rest is frozen`);
    if (ck) {
      try {
        model.loadStateDict(ck.tensors);
      } catch (e) {
        throw new CheckpointError(`--resume: ${join(o.out, 'last', 'model.safetensors')}: does not fit the model (${(e as Error).message})`);
      }
    }
    const task = o.task === 'lm' ? lmTask(p, o, o.train as string, o.dev as string)
      : o.task === 'seq2seq' ? whisperTask(p, o, o.train as unknown[], o.dev as unknown[])
        : vit ? vitTask(p, o, o.train as unknown[], o.dev as unknown[]) : bertTask(p, o, o.train as unknown[], o.dev as unknown[]);
    const checkpointer: Checkpointer = {
      save: (kind, s) => {
        if (kind === 'best') {
          model.eval();
          savePretrainedRun(o.out, p, o.lora ?? null, newHead);
          model.train();
          return;
        }
        // everything the run changes, to continue it exactly (the base weights of a LoRA run too: one file, checked on load)
        saveCheckpoint(join(o.out, 'last'), {
          config: { format: FINETUNE_FORMAT, task: o.task, from: resolve(o.from), lora: o.lora ?? null, newHead, step: s.trainer.step, metrics: s.metrics },
          model: s.model, optimizer: s.optimizer, trainer: { state: s.trainer },
        });
      },
    };
    const trainer = new Trainer(model, task as TrainingTask<unknown>, o.trainer, checkpointer);
    if (ck) {
      try {
        trainer.optimizer.importState(ck.optimizer!);
      } catch (e) {
        throw new CheckpointError(`--resume: ${join(o.out, 'last', 'optimizer.safetensors')}: does not fit the model (${(e as Error).message})`);
      }
      trainer.restore(trainerState(ck));
    }
    if (o.onEvent) trainer.on(o.onEvent);
    const last = await trainer.runAsync(o.signal);
    trainer.dispose();
    const params = model.parameters();
    return {
      out: o.out, steps: trainer.state.step, best: trainer.state.best, metrics: last?.metrics ?? {},
      trainable: params.filter((t) => t.requiresGrad).reduce((n, t) => n + t.size, 0), total: params.reduce((n, t) => n + t.size, 0),
      newHead, adapted,
    };
  } finally {
    if (ck) {
      for (const t of ck.tensors.values()) t.dispose();
      if (ck.optimizer) for (const t of ck.optimizer.tensors.values()) t.dispose();
    }
    model.dispose();
  }
}

/** What a fine-tuning run keeps: the whole model (save_pretrained), or PEFT's adapter beside the config and tokenizer. */
function savePretrainedRun(out: string, p: Pretrained, lora: LoraConfig | null, newHead: string[] | null): void {
  if (!lora) {
    savePretrained(out, p.model, { config: p.config, tokenizerFrom: p.dir });
    return;
  }
  // task_type stays null: PEFT's SEQ_CLS/TOKEN_CLS would expect a classifier in the adapter even when it was not trained
  saveAdapter(out, p.model as HfModel, lora, { baseModel: resolve(p.dir), modulesToSave: newHead ? ['classifier'] : [] });
  savePretrained(out, p.model, { config: p.config, tokenizerFrom: p.dir, configOnly: true });
}
