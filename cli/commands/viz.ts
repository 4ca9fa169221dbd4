// `qkv viz`: see attention. Serves the visualizer page for a trained tag, classify, lm or
// seq2seq model on 127.0.0.1 (the page asks the server to run the model on what the user
// types), or with --export writes one self-contained HTML file with the inspections of the
// given inputs. A language model also generates --max-new-tokens tokens step by step. A Hugging
// Face directory (GPT-2, BERT, ViT, Whisper) shows its own attention (src/inspect/hf.ts).
import { Command } from 'commander';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  refuseOverwritingInputs, resolveCheckpoint, fromPretrained, hf, inspectPretrained, getBackend, hostBackendName, hostCopy, isDeviceBackend, setBackend,
  DEFAULT_VIZ_TOKENS, inspectModel, loadInstance, QkvError, type InspectableModel, type InspectOptions, type LmInstance, type ModelInspection,
  type Seq2SeqInstance, type ModelInfo, type WatchRecord, type data,
} from '../../src/index.js';
import { applyConfig, checkOutputPath, float, int, UsageError, writeTextFile } from '../shared.js';
import { cliTask } from '../tasks.js';
import { builtinExample, defaultInput, mediaFile, mediaInput, mediaOf, parseInput } from '../viz/inputs.js';
import { readWatch } from '../viz/watch.js';
import { vizPage } from '../viz/page.js';
import { HOST, startVizServer } from '../viz/server.js';
import { taskOf } from './use.js';
import { isPretrainedDir } from './hf.js';

interface Loaded {
  /** A qkv checkpoint's model; null for a Hugging Face directory, which `pretrained` inspects. */
  instance: InspectableModel | null;
  pretrained: ((text: string, options: InspectOptions) => ModelInspection) | null;
  info: ModelInfo; defaultInput: string; training: WatchRecord[];
  /** A file-reading model's built-in example (the page opens on it), null if none. */
  example: { name: string; input: data.SequenceInput } | null;
  /** lm: new tokens generated after the default input unless told (DEFAULT_VIZ_TOKENS, fewer where the block size ends first). */
  newTokens: number | null;
  /** Why the default input was cut (a prompt longer than the model's block size), or null. */
  note: string | null;
}

const VIZ_TASKS = ['tag', 'classify', 'lm', 'seq2seq'];

/** What the page says about the model: its task, kind and sizes. */
function describe(name: string, m: InspectableModel): ModelInfo {
  if (m.config.task === 'lm') {
    const c = (m as LmInstance).config.model;
    return { name, task: 'lm', input: 'words', kind: 'gpt', attention: c.attention, pos: 'learned', layers: c.nLayer, heads: c.nHead, dModel: c.nEmbd };
  }
  if (m.config.task === 'seq2seq') {
    const c = (m as Seq2SeqInstance).config.model;
    return { name, task: 'seq2seq', input: 'words', kind: 'encoder-decoder transformer', attention: c.attention, pos: c.pos, layers: c.layers, heads: c.heads, dModel: c.dModel };
  }
  const c = (m as Exclude<InspectableModel, LmInstance | Seq2SeqInstance>).config.model;
  if (c.kind !== 'transformer') throw new QkvError(`a ${c.kind} model has no attention to look at (train with --model transformer)`);
  const words = 'featurizer' in m && (m.featurizer.words || m.featurizer.bpe);
  const media = mediaOf(m);
  return { name, task: m.config.task, input: media === 'image' ? 'image' : words ? 'words' : 'frames', media, kind: c.kind, attention: c.attention, pos: c.pos, layers: c.layers, heads: c.heads, dModel: c.dModel };
}

/**
 * A Hugging Face directory (or a PEFT adapter on one, merged: the page shows one W per head): its
 * attention on a prompt (GPT-2), a text (BERT), an image path (ViT) or a WAV path (Whisper).
 */
function loadPretrained(dir: string): Loaded {
  const p = fromPretrained(dir);
  if (p.adapter) hf.mergeLora(p.model);
  const info: ModelInfo = { name: basename(resolve(dir)), task: 'lm', input: 'words', kind: p.architecture, attention: 'softmax', pos: 'learned', layers: 0, heads: 0, dModel: 0 };
  const m = p.model;
  if (m instanceof hf.GPT2LMHeadModel) Object.assign(info, { task: 'lm', layers: m.config.nLayer, heads: m.config.nHead, dModel: m.config.nEmbd });
  else if (m instanceof hf.WhisperForConditionalGeneration) Object.assign(info, { task: 'seq2seq', input: 'frames', pos: 'sinusoidal', layers: m.config.encoderLayers, heads: m.config.encoderAttentionHeads, dModel: m.config.dModel });
  else if (m instanceof hf.ViTForImageClassification) Object.assign(info, { task: 'classify', input: 'frames', layers: m.config.numHiddenLayers, heads: m.config.numAttentionHeads, dModel: m.config.hiddenSize });
  else Object.assign(info, { task: m instanceof hf.BertForTokenClassification ? 'tag' : 'classify', layers: m.config.numHiddenLayers, heads: m.config.numAttentionHeads, dModel: m.config.hiddenSize });
  return {
    instance: null, info, defaultInput: m instanceof hf.GPT2LMHeadModel || m instanceof hf.BertForTokenClassification || m instanceof hf.BertForSequenceClassification ? 'I saw a saw' : '', training: [], example: null, newTokens: null, note: null,
    pretrained: (text, options) => inspectPretrained(p, text, { maxNewTokens: options.maxNewTokens }),
  };
}

/**
 * The model in `dir`, ready to inspect; a QkvError says why not. An inspection reads every
 * intermediate of every layer and head back, so on a GPU backend the model is inspected on a
 * host backend: a qkv model's weights copied there once (counted transfers), a Hugging Face
 * directory loaded there; one line says so.
 */
async function loadModel(dir: string, maxPositions: number): Promise<Loaded> {
  const device = isDeviceBackend(getBackend()) ? getBackend().name : null;
  const host = device ? hostBackendName() : null;
  if (isPretrainedDir(dir)) {
    if (host) {
      setBackend(host);
      console.error(`qkv viz: the inspections run on the ${host} backend (each reads every layer's and head's intermediates back); the model was loaded there, not on ${device}`);
    }
    return loadPretrained(dir);
  }
  const { task, config } = taskOf(dir);
  if (!VIZ_TASKS.includes(task as string)) throw new QkvError(`--model ${dir}: a ${String(task)} model; qkv viz shows ${VIZ_TASKS.join(', ')} models`);
  const { driver } = cliTask(task, `--model ${dir}`);
  let { instance } = loadInstance(driver, dir);
  if (host) {
    instance = await hostCopy(driver, instance, host);
    setBackend(host); // the inputs of every inspection are made there too
    console.error(`qkv viz: the inspections run on the ${host} backend (each reads every layer's and head's intermediates back); the model's weights were copied from ${device} once`);
  }
  const m = instance as unknown as InspectableModel;
  let info: ModelInfo;
  try {
    info = describe(basename(resolve(dir)), m);
  } catch (e) {
    throw e instanceof QkvError ? new QkvError(`--model ${dir}: ${e.message}`) : e;
  }
  const meta = (config.meta ?? {}) as Record<string, unknown>;
  const example = builtinExample(m, meta, maxPositions);
  const saved = info.media ? '' : defaultInput(task, meta);
  const loaded: Loaded = { instance: m, pretrained: null, info: { ...info, example: example?.name ?? null }, defaultInput: saved, training: readWatch(dir), example, newTokens: null, note: null };
  if (task !== 'lm' || !saved) return loaded;
  // the prompt saved at training time may be longer than the model reads: cut to half its block size, said once
  const lm = m as LmInstance;
  const block = lm.config.model.blockSize;
  let ids: Int32Array;
  try { ids = lm.tokenizer.encode(saved, 'the saved prompt'); } catch { ids = new Int32Array(0); }
  if (ids.length > block) {
    const keep = Math.max(1, Math.floor(block / 2));
    loaded.defaultInput = lm.tokenizer.decode(ids.subarray(0, keep));
    loaded.note = `the model's saved prompt has ${ids.length} tokens, more than its block size ${block}: showing its first ${keep} (${JSON.stringify(loaded.defaultInput)})`;
  }
  loaded.newTokens = fittedNewTokens(lm, loaded.defaultInput);
  return loaded;
}

/** lm, no --max-new-tokens: DEFAULT_VIZ_TOKENS new tokens, or as many as the block size leaves after `prompt`. */
function fittedNewTokens(m: LmInstance, prompt: string): number {
  let P: number;
  try { P = m.tokenizer.encode(prompt, 'the prompt').length; } catch { return DEFAULT_VIZ_TOKENS; } // the inspection names the character
  return Math.max(1, Math.min(DEFAULT_VIZ_TOKENS, m.config.model.blockSize - P + 1));
}

/** The generation options for one input: an lm's new tokens fitted to it when --max-new-tokens was not given. */
function withNewTokens(m: Loaded, text: string, gen: InspectOptions): InspectOptions {
  if (m.info.task !== 'lm' || gen.maxNewTokens !== undefined) return gen;
  // a Hugging Face GPT-2 reads 1024 positions: the default count
  if (!m.instance) return { ...gen, maxNewTokens: DEFAULT_VIZ_TOKENS };
  return { ...gen, maxNewTokens: fittedNewTokens(m.instance as LmInstance, text) };
}

/** One input -> the model's inspection: typed text, or for a file-reading model a WAV / image path. */
function inspectText(m: Loaded, text: string, maxPositions: number, options: InspectOptions): ModelInspection {
  if (m.pretrained) return m.pretrained(text, options);
  const instance = m.instance!;
  if (m.info.media) return withFrameMs(m, inspectModel(instance, mediaFile(instance, text, maxPositions), options));
  return inspectModel(instance, parseInput(instance, text, maxPositions), options);
}

/** A file's error without its name when the flag already names it ("--input a.wav: a.wav: not a WAV file"). */
const unnamed = (message: string, path: string): string => (message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message);

/** Audio: the frame hop, so the page can say where a frame sits in time. */
function withFrameMs(m: Loaded, r: ModelInspection): ModelInspection {
  const fe = (m.instance?.config as { featurizer?: { frontEnd?: data.FrontEnd } } | undefined)?.featurizer?.frontEnd;
  return fe && fe.kind === 'logmel' ? { ...r, frameMs: fe.frameShiftMs } : r;
}

/** The generation flags, refused for a model that generates nothing. */
function generationOptions(o: Record<string, unknown>, cmd: Command, task: string): InspectOptions {
  const given = ['maxNewTokens', 'temperature', 'seed'].filter((k) => cmd.getOptionValueSource(k) !== undefined && cmd.getOptionValueSource(k) !== 'default');
  if (task !== 'lm' && task !== 'seq2seq' && given.length) throw new UsageError(`--${given[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to lm and seq2seq models; this is a ${task} model`);
  if (task === 'seq2seq' && given.some((k) => k !== 'maxNewTokens')) throw new UsageError('--temperature and --seed apply to lm models; a seq2seq model is shown with its greedy output');
  if (given.includes('seed') && !((o.temperature as number | undefined) ?? 0)) throw new UsageError('--seed goes with --temperature > 0: greedy decoding draws nothing');
  return {
    // lm without --max-new-tokens: fitted to each prompt and the block size (fittedNewTokens)
    maxNewTokens: o.maxNewTokens as number | undefined,
    temperature: o.temperature as number | undefined, seed: o.seed as number | undefined,
  };
}

export function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => console.error(`qkv viz: could not start ${cmd}; open ${url} yourself`));
  child.unref();
}

export function vizCommand(): Command {
  return new Command('viz')
    .description('see attention: a page that walks the lecture\'s steps with a trained model\'s own numbers')
    .requiredOption('--model <dir>', 'a run directory (its best model) or a checkpoint directory of a tag, classify, lm or seq2seq model')
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', int('--port', 0), 0)
    .option('--open', 'open the page in the default browser', false)
    .option('--export <file>', 'write one self-contained HTML file (offline, no server) instead of serving')
    .option('--input <text>', 'the input the page opens on (a sentence, JSON frames, a prompt; a WAV or image file for a model that reads files); with --export: an input to include (repeat for several). Default: the model\'s built-in example', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--max-positions <n>', 'longest input accepted (a GPT reads at most its block size)', int('--max-positions', 1, 8192, 'an inspection holds positions² weights per layer and head'), 1024)
    .option('--max-new-tokens <n>', `lm: tokens generated step by step (default ${DEFAULT_VIZ_TOKENS}); seq2seq: the longest output (default 2 x input + 10)`, int('--max-new-tokens', 1, 4096, 'each step is inspected and kept in the page'))
    .option('--temperature <x>', 'lm: sampling temperature (default 0: greedy)', float('--temperature', 0))
    .option('--seed <n>', 'lm: seed of the sampling when --temperature > 0 (default 0)', int('--seed', 0))
    .option('--config <file>', 'JSON file of flag values')
    .action(async (_o, cmd: Command) => {
      const o = applyConfig(cmd);
      const dir = o.model as string;
      const max = o.maxPositions as number;
      if (o.export !== undefined) {
        checkOutputPath('--export', String(o.export), 'file');
        // never write over what this run reads: the checkpoint's files and the run's attention.jsonl
        const reads = [isPretrainedDir(dir) ? dir : resolveCheckpoint(dir), dir].flatMap((d) => { try { return readdirSync(d).map((f) => join(d, f)); } catch { return []; } });
        refuseOverwritingInputs(o.export as string, reads, (msg) => new UsageError(`--export ${o.export as string}: ${msg}`));
        const m = await loadModel(dir, max);
        const gen = generationOptions(o, cmd, m.info.task);
        const inputs = (o.input as string[]).length ? o.input as string[] : m.defaultInput ? [m.defaultInput] : [];
        if (!inputs.length && m.example) {
          const inspections = [{ input: m.example.name, result: withFrameMs(m, inspectModel(m.instance!, m.example.input, gen)) }];
          writeTextFile(o.export as string, vizPage(m.info.name, { model: m.info, inspections, training: m.training }), `--export ${o.export as string}`);
          console.log(`qkv viz: wrote ${o.export as string} (${m.example.name}; open it in a browser, no server needed)`);
          return;
        }
        if (!inputs.length) throw new UsageError(`--export: give the inputs to show with --input ${m.info.media === 'audio' ? 'FILE.wav' : m.info.media === 'image' ? 'FILE.png' : 'TEXT'} (this model has no built-in example)`);
        if (!(o.input as string[]).length && m.note) console.error(`qkv viz: ${m.note}`);
        const inspections = inputs.map((text) => {
          try {
            return { input: text, result: inspectText(m, text, max, withNewTokens(m, text, gen)) };
          } catch (e) {
            throw e instanceof QkvError ? new UsageError(`--input ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)}: ${unnamed(e.message, text)}`) : e;
          }
        });
        writeTextFile(o.export as string, vizPage(m.info.name, { model: m.info, inspections, training: m.training }), `--export ${o.export as string}`);
        console.log(`qkv viz: wrote ${o.export as string} (${inspections.length} input${inspections.length === 1 ? '' : 's'}; open it in a browser, no server needed)`);
        return;
      }
      const given = o.input as string[];
      if (given.length > 1) throw new UsageError('--input: the served page opens on one input (several go with --export)');
      if ((o.port as number) > 65535) throw new UsageError('--port must be an integer from 0 to 65535');
      let loaded: Loaded | null = null;
      let failure = '';
      try {
        loaded = await loadModel(dir, max);
      } catch (e) {
        if (!(e instanceof QkvError)) throw e;
        failure = e.message;
        console.error(`qkv: viz: ${failure}`); // the page says it too
      }
      // --input: what the page opens on (a file for a model that reads files), checked now
      if (loaded && given.length) {
        const first = given[0]!;
        if (loaded.info.media) {
          try {
            loaded.example = { name: first, input: mediaFile(loaded.instance!, first, max) };
          } catch (e) {
            throw e instanceof QkvError ? new UsageError(`--input ${first}: ${unnamed(e.message, first)}`) : e;
          }
          loaded.info = { ...loaded.info, example: first };
        } else loaded.defaultInput = first;
      }
      const gen = generationOptions(o, cmd, loaded?.info.task ?? 'lm');
      if (loaded?.note) console.error(`qkv viz: ${loaded.note}`);
      const server = await startVizServer({
        page: vizPage(loaded?.info.name ?? basename(resolve(dir)), null),
        model: () => (loaded
          ? { status: 200, body: { model: loaded.info, defaultInput: loaded.defaultInput, training: loaded.training, newTokens: gen.maxNewTokens ?? loaded.newTokens } }
          : { status: 500, body: { error: `cannot load the model: ${failure}` } }),
        inspect: (text, params) => {
          if (!loaded) throw new QkvError(`cannot load the model: ${failure}`);
          // the page's "new tokens" box (lm)
          const tokens = params.get('tokens');
          if (tokens !== null && !/^0*[1-9]\d*$/.test(tokens)) throw new QkvError(`new tokens must be an integer >= 1, got "${tokens.slice(0, 20)}"`);
          return inspectText(loaded, text, max, tokens === null || loaded.info.task !== 'lm' ? withNewTokens(loaded, text, gen) : { ...gen, maxNewTokens: Number(tokens) });
        },
        example: () => {
          if (!loaded?.example) throw new QkvError(loaded ? 'this model has no built-in example: open a file' : `cannot load the model: ${failure}`);
          return withFrameMs(loaded, inspectModel(loaded.instance!, loaded.example.input, gen));
        },
        inspectFile: (bytes, name) => {
          if (!loaded) throw new QkvError(`cannot load the model: ${failure}`);
          if (!loaded.info.media) throw new QkvError('this model reads typed input, not files');
          return withFrameMs(loaded, inspectModel(loaded.instance!, mediaInput(loaded.instance!, bytes, name, max), gen));
        },
      }, o.port as number);
      const url = `http://${HOST}:${(server.address() as { port: number }).port}/`;
      console.log(`qkv viz: ${url} (Ctrl-C to stop)`);
      if (o.open) openBrowser(url);
    });
}
