// The CLI on Hugging Face directories (save_pretrained layouts and PEFT adapters): `qkv generate`,
// `qkv predict`, `qkv export --merge-lora | --onnx` and `qkv train tag|classify|seq2seq|lm --from DIR [--lora R]`
// call these when --model / --from names such a directory; the qkv-run paths stay as they were.
import { Command, Option } from 'commander';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  classifyImagePretrained, classifyTextPretrained, data, finetunePretrained, readBinaryFile, transcribePretrained, imageFile, imageProcessorFromJson, readImageFolder, readImageList, readTextFile, resolveListPath, fromPretrained, generatePretrainedAsync, Generator, hf, savePretrained, tagWordsPretrained,
  exportOnnx, getBackend, isDeviceBackend, refuseOverwritingInputs, saveOnnx, type FinetuneTask, type SpeechExample, type TrainerOptions,
} from '../../src/index.js';
import { progress } from '../progress.js';
import { float, int, prepareOutDir, printJson, UsageError } from '../shared.js';
import { withInterrupts } from '../interrupts.js';

/** A directory written by transformers' or PEFT's save_pretrained (not a qkv run). */
export function isPretrainedDir(dir: unknown): dir is string {
  if (typeof dir !== 'string') return false;
  if (existsSync(join(dir, 'adapter_config.json'))) return true;
  const config = join(dir, 'config.json');
  if (!existsSync(config)) return false;
  try {
    return Array.isArray((JSON.parse(readFileSync(config, 'utf8')) as { architectures?: unknown }).architectures);
  } catch {
    return false;
  }
}

/**
 * Predicting with and exporting a Hugging Face directory read values synchronously, which a device
 * backend (the GPU) does not allow: one line instead of an error from deep inside.
 */
function hostOnly(what: string): void {
  const be = getBackend();
  if (isDeviceBackend(be)) {
    throw new UsageError(`--backend ${be.name}: ${what} on a Hugging Face directory runs on host backends only (it reads values synchronously; qkv generate and qkv viz run on ${be.name}); use --backend native (or wasm)`);
  }
}

/** `qkv generate --model GPT2_DIR`: continue the prompt with GPT-2 on the KV cache (on any backend: each token's logits are awaited). */
export async function hfGenerate(o: Record<string, unknown>): Promise<void> {
  const p = fromPretrained(o.model as string, { base: o.base as string | undefined });
  try {
    const prompt = (o.prompt as string | undefined) ?? '';
    const generator = new Generator(o.seed as number);
    const samples: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < (o.numSamples as number); i++) {
      const { text } = await generatePretrainedAsync(p, prompt, { maxNewTokens: o.maxNewTokens as number, temperature: o.temperature as number, topK: o.topK as number, topP: o.topP as number, generator });
      samples.push(text);
      if (!o.json) process.stdout.write(`${i ? '---------------\n' : ''}${prompt}${text}\n`);
    }
    if (o.json) printJson({ model: o.model, architecture: p.architecture, prompt, samples, seconds: Number(((performance.now() - t0) / 1000).toFixed(3)) });
  } finally {
    p.model.dispose();
  }
}

/**
 * `qkv predict --model DIR`: BERT token classification: word/LABEL per word; sequence classification:
 * the text's label; ViT: an image path per line, its label; Whisper: a WAV path per line, its transcription (greedy).
 * An empty line gives an empty line (null with --json), so outputs line up with inputs.
 */
export function hfPredict(o: Record<string, unknown>, lines: string[]): void {
  hostOnly('qkv predict');
  const p = fromPretrained(o.model as string, { base: o.base as string | undefined });
  try {
    if (p.model instanceof hf.GPT2LMHeadModel) throw new UsageError(`--model ${String(o.model)}: a ${p.architecture} generates text; use qkv generate`);
    for (const line of lines) {
      if (!line.trim()) { // one output line per input line, as the native models' predict: empty in, empty out
        process.stdout.write(o.json ? 'null\n' : '\n');
        continue;
      }
      if (p.model instanceof hf.BertForTokenClassification) {
        const words = line.split(/\s+/).filter(Boolean);
        const labels = words.length ? tagWordsPretrained(p, words) : [];
        process.stdout.write((o.json ? JSON.stringify({ words, labels }) : words.map((w, i) => `${w}/${labels[i]}`).join(' ')) + '\n');
      } else if (p.model instanceof hf.WhisperForConditionalGeneration) {
        const path = resolveListPath(String(o.input ?? '.'), line.trim());
        const wav = data.parseWav(readBinaryFile(path), path);
        const rate = p.featureExtractor?.samplingRate ?? 16000;
        const r = transcribePretrained(p, data.resample(data.toMono(wav), wav.sampleRate, rate), { beam: o.beam as number | undefined });
        process.stdout.write((o.json ? JSON.stringify({ audio: line.trim(), text: r.text, ids: r.ids }) : `${line.trim()}\t${r.text}`) + '\n');
      } else if (p.model instanceof hf.ViTForImageClassification) {
        const r = classifyImagePretrained(p, imageFile(resolveListPath(String(o.input ?? '.'), line.trim()), p.imageProcessor!));
        process.stdout.write((o.json ? JSON.stringify({ image: line.trim(), ...r }) : `${r.label}\t${line.trim()}`) + '\n');
      } else {
        const [a, b] = line.split('\t');
        const r = classifyTextPretrained(p, a!, b);
        process.stdout.write((o.json ? JSON.stringify({ text: line, ...r }) : `${r.label}\t${line}`) + '\n');
      }
    }
  } finally {
    p.model.dispose();
  }
}

/** `qkv export --model ADAPTER_DIR --merge-lora --out DIR`: the adapter folded into the base weights, saved as save_pretrained does. */
export function hfExport(o: Record<string, unknown>): void {
  hostOnly('qkv export');
  if (o.torch) throw new UsageError(`--torch: ${String(o.model)} is a Hugging Face directory, already what PyTorch (transformers) reads`);
  if (o.onnx) return hfExportOnnx(o);
  if (!o.mergeLora) throw new UsageError(`--model ${String(o.model)} is a Hugging Face directory: qkv export --merge-lora --out DIR merges its LoRA adapter`);
  if (!o.out) throw new UsageError('--merge-lora needs --out DIR (where the merged model is saved)');
  const p = fromPretrained(o.model as string, { base: o.base as string | undefined });
  try {
    if (!p.adapter) throw new UsageError(`--merge-lora: ${String(o.model)} has no adapter_config.json (a PEFT LoRA adapter directory)`);
    const n = hf.mergeLora(p.model);
    prepareOutDir('--out', o.out as string);
    savePretrained(o.out as string, p.model, { config: p.config, tokenizerFrom: existsSync(join(o.model as string, 'tokenizer.json')) ? (o.model as string) : p.adapter.base });
    if (o.json) printJson({ model: o.model, base: p.adapter.base, merged: n, out: o.out });
    else console.log(`${String(o.out)}: ${p.architecture} with the LoRA adapter of ${String(o.model)} merged into ${n} modules (base ${p.adapter.base})`);
  } finally {
    p.model.dispose();
  }
}

/** `qkv export --model HF_DIR --onnx FILE`: the forward graph (an adapter directory's adapter merged first). */
function hfExportOnnx(o: Record<string, unknown>): void {
  if (o.mergeLora) throw new UsageError('--onnx exports the model with its adapter merged; --merge-lora --out DIR is a separate export');
  const p = fromPretrained(o.model as string, { base: o.base as string | undefined });
  try {
    const inputs = readdirSync(o.model as string).map((f) => join(o.model as string, f));
    refuseOverwritingInputs(o.onnx as string, inputs, (m) => new UsageError(`--onnx ${o.onnx as string}: ${m}`));
    const merged = p.adapter ? hf.mergeLora(p.model) : 0;
    const files = exportOnnx(p.model, { opset: Number(o.opset) });
    const paths = saveOnnx(o.onnx as string, files);
    if (o.json) printJson({ model: o.model, architecture: p.architecture, mergedAdapters: merged, written: paths.map((path, i) => ({ path, what: files[i]!.what, bytes: files[i]!.bytes.length })) });
    else paths.forEach((path, i) => console.log(`${path}  ${files[i]!.what} (${(files[i]!.bytes.length / 1024).toFixed(1)} KiB)${merged ? `, the LoRA adapter merged into ${merged} modules` : ''}`));
  } finally {
    p.model.dispose();
  }
}

/**
 * The training data for --from: images of a ViT directory go through its own image processor
 * (preprocessor_config.json), everything else is read as the task reads it (`read`).
 */
export function hfData<T>(o: Record<string, unknown>, read: () => T): T | { train: unknown[]; dev: unknown[] } {
  const pre = join(String(o.from), 'preprocessor_config.json');
  if (!existsSync(pre) || !o.train) return read();
  const fe = imageProcessorFromJson(JSON.parse(readFileSync(pre, 'utf8')), pre);
  const load = (f: string) => (existsSync(f) && statSync(f).isDirectory() ? readImageFolder(f, fe) : readImageList(readTextFile(f), f, fe));
  const train = load(o.train as string);
  if (o.dev) return { train, dev: load(o.dev as string) };
  const [tr, dev] = data.split(train, [0.9, 0.1], o.seed as number);
  return { train: tr!, dev: dev! };
}

/**
 * `qkv train seq2seq --from WHISPER_DIR`: `--train FILE` of `WAV path<TAB>transcript` lines (paths
 * relative to the file), each WAV mono-mixed and resampled to the feature extractor's rate;
 * `--dev FILE` likewise, or 10% of --train.
 */
export function hfSpeechData(o: Record<string, unknown>): { train: SpeechExample[]; dev: SpeechExample[] } {
  if (!o.train) throw new UsageError('--from with seq2seq: give --train FILE of WAV path<TAB>transcript lines');
  const pre = join(String(o.from), 'preprocessor_config.json');
  const rate = existsSync(pre) ? Number((JSON.parse(readFileSync(pre, 'utf8')) as { sampling_rate?: number }).sampling_rate ?? 16000) : 16000;
  const read = (file: string): SpeechExample[] => {
    const out: SpeechExample[] = [];
    readTextFile(file).replace(/^\ufeff/, '').split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      const tab = line.indexOf('\t');
      if (tab < 0) throw new UsageError(`${file}:${i + 1}: expected WAV path<TAB>transcript`);
      const path = resolveListPath(file, line.slice(0, tab).trim());
      const wav = data.parseWav(readBinaryFile(path), path);
      out.push({ audio: data.resample(data.toMono(wav), wav.sampleRate, rate), text: line.slice(tab + 1), source: `${file}:${i + 1}` });
    });
    if (!out.length) throw new UsageError(`${file}: no WAV path<TAB>transcript lines`);
    return out;
  };
  const train = read(o.train as string);
  if (o.dev) return { train, dev: read(o.dev as string) };
  if (train.length < 2) throw new UsageError(`${String(o.train)}: needs at least 2 lines to hold one out (or give --dev)`);
  const cut = Math.max(1, Math.floor(train.length * 0.1));
  return { train: train.slice(cut), dev: train.slice(0, cut) };
}

/** The flags of fine-tuning a pretrained directory (on every `qkv train` task). */
export function addPretrainedFlags(cmd: Command): Command {
  return cmd
    .option('--from <dir>', 'fine-tune a Hugging Face save_pretrained directory (GPT-2 for lm; BERT token / sequence classification for tag / classify; ViT for classify; Whisper for seq2seq) instead of a new model')
    .option('--lora <r>', 'with --from: train LoRA adapters of rank R only (PEFT format), the model frozen', int('--lora', 1))
    .option('--lora-alpha <x>', 'LoRA scaling alpha (the update is scaled by alpha/r; default 2r)', float('--lora-alpha', 0))
    .option('--lora-dropout <x>', 'dropout on the LoRA adapters\' input', float('--lora-dropout', 0, 1), 0)
    .addOption(new Option('--lora-targets <names>', 'modules to adapt, as PEFT\'s target_modules (comma-separated; default: c_attn for GPT-2, query,value for BERT and ViT, q_proj,v_proj for Whisper)'));
}

/** `qkv train tag|classify|seq2seq|lm --from DIR [--resume]`: fine-tune, then say what was kept where (`out/last`: the resumable checkpoint). */
export async function hfTrain(task: FinetuneTask, o: Record<string, unknown>, data: { train: readonly unknown[] | string; dev: readonly unknown[] | string }, trainer: TrainerOptions): Promise<void> {
  if (o.lora === undefined && (o.loraAlpha !== undefined || o.loraTargets !== undefined)) throw new UsageError('--lora-alpha and --lora-targets need --lora R');
  const out = o.out as string;
  prepareOutDir('--out', out);
  const r = o.lora as number | undefined;
  const lora = r === undefined ? null : {
    r, alpha: (o.loraAlpha as number | undefined) ?? 2 * r, dropout: o.loraDropout as number,
    targets: o.loraTargets ? String(o.loraTargets).split(',').map((s) => s.trim()).filter(Boolean) : task === 'lm' ? ['c_attn'] : task === 'seq2seq' ? ['q_proj', 'v_proj'] : ['query', 'value'],
  };
  if (!o.resume && existsSync(join(out, 'last'))) throw new UsageError(`--out ${out} already holds a run; pass --resume to continue it, or choose another directory`);
  const bar = progress({ log: join(out, 'log.jsonl'), quiet: Boolean(o.json) });
  let result: Awaited<ReturnType<typeof finetunePretrained>>;
  try {
    result = await withInterrupts((signal) => finetunePretrained({
      from: o.from as string, task, train: data.train, dev: data.dev, out, lora, trainer, batchSize: o.batchSize as number,
      blockSize: o.blockSize as number | undefined, onEvent: bar.onEvent, note: (l) => console.error(`qkv: ${l}`), signal, resume: Boolean(o.resume),
    }));
  } finally {
    bar.stop();
  }
  const summary = { task, from: o.from, out, steps: result.steps, best: result.best, metrics: result.metrics, trainable: result.trainable, parameters: result.total, newHead: result.newHead, lora };
  if (o.json) printJson(summary);
  else {
    console.log(`${task}: fine-tuned ${String(o.from)} for ${result.steps} steps; ${result.trainable} of ${result.total} parameters trained${lora ? ` (LoRA r=${lora.r})` : ''}`);
    console.log(Object.entries(result.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join('  '));
    const files = ['adapter_config.json', 'adapter_model.safetensors', 'config.json', 'model.safetensors', 'tokenizer.json', 'preprocessor_config.json'].filter((f) => existsSync(join(out, f)));
    console.log(`${out}: ${files.join(', ')} (${lora ? 'a PEFT adapter on --from' : 'save_pretrained layout'})`);
  }
}
