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
  refuseOverwritingInputs, resolveCheckpoint, fromPretrained, hf, inspectPretrained,
  DEFAULT_VIZ_TOKENS, inspectModel, loadInstance, QkvError, type InspectableModel, type InspectOptions, type LmInstance, type ModelInspection,
  type Seq2SeqInstance, type ModelInfo, type WatchRecord,
} from '../../src/index.js';
import { applyConfig, float, int, UsageError, writeTextFile } from '../shared.js';
import { cliTask } from '../tasks.js';
import { defaultInput, parseInput } from '../viz/inputs.js';
import { readWatch } from '../viz/watch.js';
import { vizPage } from '../viz/page.js';
import { HOST, startVizServer } from '../viz/server.js';
import { taskOf } from './use.js';
import { isPretrainedDir } from './hf.js';

interface Loaded { info: ModelInfo; defaultInput: string; training: WatchRecord[]; inspect: (text: string, maxPositions: number, options: InspectOptions) => ModelInspection }

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
  const words = 'featurizer' in m && m.featurizer.words;
  return { name, task: m.config.task, input: words ? 'words' : 'frames', kind: c.kind, attention: c.attention, pos: c.pos, layers: c.layers, heads: c.heads, dModel: c.dModel };
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
    info, defaultInput: m instanceof hf.GPT2LMHeadModel || m instanceof hf.BertForTokenClassification || m instanceof hf.BertForSequenceClassification ? 'I saw a saw' : '', training: [],
    inspect: (text, _max, options) => inspectPretrained(p, text, { maxNewTokens: options.maxNewTokens }),
  };
}

/** The model in `dir`, ready to inspect; a QkvError says why not. */
function loadModel(dir: string): Loaded {
  if (isPretrainedDir(dir)) return loadPretrained(dir);
  const { task, config } = taskOf(dir);
  if (!VIZ_TASKS.includes(task as string)) throw new QkvError(`--model ${dir}: a ${String(task)} model; qkv viz shows ${VIZ_TASKS.join(', ')} models`);
  const { instance } = loadInstance(cliTask(task, `--model ${dir}`).driver, dir);
  const m = instance as unknown as InspectableModel;
  let info: ModelInfo;
  try {
    info = describe(basename(resolve(dir)), m);
  } catch (e) {
    throw e instanceof QkvError ? new QkvError(`--model ${dir}: ${e.message}`) : e;
  }
  return {
    info, defaultInput: defaultInput(task, (config.meta ?? {}) as Record<string, unknown>), training: readWatch(dir),
    inspect: (text, maxPositions, options) => inspectModel(m, parseInput(m, text, maxPositions), options),
  };
}

/** One typed input -> the model's inspection. */
function inspectText(m: Loaded, text: string, maxPositions: number, options: InspectOptions): ModelInspection {
  return m.inspect(text, maxPositions, options);
}

/** The generation flags, refused for a model that generates nothing. */
function generationOptions(o: Record<string, unknown>, cmd: Command, task: string): InspectOptions {
  const given = ['maxNewTokens', 'temperature', 'seed'].filter((k) => cmd.getOptionValueSource(k) !== undefined && cmd.getOptionValueSource(k) !== 'default');
  if (task !== 'lm' && task !== 'seq2seq' && given.length) throw new UsageError(`--${given[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to lm and seq2seq models; this is a ${task} model`);
  if (task === 'seq2seq' && given.some((k) => k !== 'maxNewTokens')) throw new UsageError('--temperature and --seed apply to lm models; a seq2seq model is shown with its greedy output');
  if (given.includes('seed') && !((o.temperature as number | undefined) ?? 0)) throw new UsageError('--seed goes with --temperature > 0: greedy decoding draws nothing');
  return {
    maxNewTokens: (o.maxNewTokens as number | undefined) ?? (task === 'lm' ? DEFAULT_VIZ_TOKENS : undefined),
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
    .option('--input <text>', 'with --export: an input to include (repeat for several; default: the model\'s built-in example)', (v: string, all: string[]) => [...all, v], [] as string[])
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
        if (String(o.export).trim() === '') throw new UsageError('--export: the path is empty; give the HTML file to write');
        // never write over what this run reads: the checkpoint's files and the run's attention.jsonl
        const reads = [isPretrainedDir(dir) ? dir : resolveCheckpoint(dir), dir].flatMap((d) => { try { return readdirSync(d).map((f) => join(d, f)); } catch { return []; } });
        refuseOverwritingInputs(o.export as string, reads, (msg) => new UsageError(`--export ${o.export as string}: ${msg}`));
        const m = loadModel(dir);
        const gen = generationOptions(o, cmd, m.info.task);
        const inputs = (o.input as string[]).length ? o.input as string[] : m.defaultInput ? [m.defaultInput] : [];
        if (!inputs.length) throw new UsageError('--export: give the inputs to show with --input TEXT (this model has no built-in example)');
        const inspections = inputs.map((text) => {
          try {
            return { input: text, result: inspectText(m, text, max, gen) };
          } catch (e) {
            throw e instanceof QkvError ? new UsageError(`--input ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)}: ${e.message}`) : e;
          }
        });
        writeTextFile(o.export as string, vizPage(m.info.name, { model: m.info, inspections, training: m.training }), `--export ${o.export as string}`);
        console.log(`qkv viz: wrote ${o.export as string} (${inspections.length} input${inspections.length === 1 ? '' : 's'}; open it in a browser, no server needed)`);
        return;
      }
      if ((o.input as string[]).length) throw new UsageError('--input goes with --export; the served page has its own input box');
      if ((o.port as number) > 65535) throw new UsageError('--port must be an integer from 0 to 65535');
      let loaded: Loaded | null = null;
      let failure = '';
      try {
        loaded = loadModel(dir);
      } catch (e) {
        if (!(e instanceof QkvError)) throw e;
        failure = e.message;
        console.error(`qkv: viz: ${failure}`); // the page says it too
      }
      const gen = generationOptions(o, cmd, loaded?.info.task ?? 'lm');
      const server = await startVizServer({
        page: vizPage(loaded?.info.name ?? basename(resolve(dir)), null),
        model: () => (loaded
          ? { status: 200, body: { model: loaded.info, defaultInput: loaded.defaultInput, training: loaded.training, newTokens: gen.maxNewTokens ?? null } }
          : { status: 500, body: { error: `cannot load the model: ${failure}` } }),
        inspect: (text, params) => {
          if (!loaded) throw new QkvError(`cannot load the model: ${failure}`);
          // the page's "new tokens" box (lm)
          const tokens = params.get('tokens');
          if (tokens !== null && !/^0*[1-9]\d*$/.test(tokens)) throw new QkvError(`new tokens must be an integer >= 1, got "${tokens.slice(0, 20)}"`);
          return inspectText(loaded, text, max, tokens === null || loaded.info.task !== 'lm' ? gen : { ...gen, maxNewTokens: Number(tokens) });
        },
      }, o.port as number);
      const url = `http://${HOST}:${(server.address() as { port: number }).port}/`;
      console.log(`qkv viz: ${url} (Ctrl-C to stop)`);
      if (o.open) openBrowser(url);
    });
}
