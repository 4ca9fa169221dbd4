// `qkv eval`, `qkv predict`, `qkv info`: use a trained model.
import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointValueCount, data, describeTokenizer, loadInstance, parseTokenizerJson, readCheckpointConfig, resolveCheckpoint, tagReport, readTextFile, TOKENIZER_FILE } from '../../src/index.js';
import { cliTask } from '../tasks.js';
import { frontEndOf, mediaInputs } from '../media.js';
import { applyConfig, choice, fmt, int, printJson, UsageError } from '../shared.js';
import { FORMATS } from '../datasets.js';
import { hfPredict, isPretrainedDir } from './hf.js';
import { answerLines, stdinIsFile, streamLines } from '../predict.js';

/** Beam search runs the decoder once per hypothesis and step: past this a sentence takes minutes. */
export const MAX_BEAM = 1024;

/** The task a checkpoint was trained for, from its config.json. */
export function taskOf(dir: string): { task: unknown; config: Record<string, unknown> } {
  const config = readCheckpointConfig(resolveCheckpoint(dir));
  return { task: config.task, config };
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('evaluate a trained model on labelled data')
    .requiredOption('--model <dir>', 'a run directory (its best model) or a checkpoint directory')
    .requiredOption('--data <file>', 'labelled data in the task\'s format')
    .addOption(choice('--format <name>', 'file format (default: from the extension)', ['auto', ...FORMATS], 'auto'))
    .addOption(choice('--column <name>', 'CoNLL-U tag column', ['upos', 'xpos'], 'upos'))
    .option('--json', 'print the metrics as JSON', false)
    .option('--config <file>', 'JSON file of flag values')
    .action((_o, cmd: Command) => {
      const o = applyConfig(cmd);
      const t0 = performance.now();
      const { task } = taskOf(o.model as string);
      const t = cliTask(task, `--model ${String(o.model)}`);
      const { instance } = loadInstance(t.driver, o.model as string);
      const examples = t.readLabelled(o.data as string, { ...o, frontEnd: frontEndOf(instance) ?? undefined });
      let result: ReturnType<typeof t.driver.evaluate>;
      try {
        result = t.driver.evaluate(instance, examples);
      } catch (e) {
        throw t.evaluateError ? t.evaluateError(e, o.data as string) : e;
      }
      const seconds = (performance.now() - t0) / 1000;
      const perTag = task === 'tag' ? tagReport(examples as data.TaggedExample[], t.driver.predict(instance, examples) as string[][]) : null;
      if (o.json) {
        printJson({ task, model: o.model, data: o.data, examples: examples.length, metrics: result.metrics, ...(perTag ? { perTag } : {}), seconds: Number(seconds.toFixed(2)) });
        return;
      }
      // a language model is evaluated on whole texts: count those and their tokens, not "examples"
      const what = task === 'lm'
        ? `${examples.length} text${examples.length === 1 ? '' : 's'}, ${String(result.metrics['tokens'])} tokens`
        : `${examples.length} examples`;
      console.log(`${String(task)} model ${String(o.model)} on ${String(o.data)} (${what}, ${seconds.toFixed(1)} s)`);
      console.log(Object.entries(result.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join('  '));
      if (perTag) {
        console.log('\ntag          precision  recall     f1  support');
        for (const r of perTag) console.log(`${String(r.label).padEnd(12)} ${fmt(r.precision).padStart(9)} ${fmt(r.recall).padStart(7)} ${fmt(r.f1).padStart(6)} ${String(r.support).padStart(8)}`);
      }
    });
}

export function predictCommand(): Command {
  return new Command('predict')
    .description('run a trained model on new inputs (one per line; JSONL for frames and graphs)')
    .requiredOption('--model <dir>', 'a run directory (its best model) or a checkpoint directory')
    .option('--input <file>', 'input file (default: standard input)')
    .option('--json', 'print one JSON object per input', false)
    .option('--beam <n>', 'seq2seq: beam search keeping N hypotheses (default: greedy decoding)', int('--beam', 1, MAX_BEAM, 'each decoding step runs the decoder on every hypothesis'))
    .option('--config <file>', 'JSON file of flag values')
    .action(async (_o, cmd: Command) => {
      const o = applyConfig(cmd);
      if (isPretrainedDir(o.model)) { // a Hugging Face BERT directory (or a PEFT adapter on one): one text per line
        const lines = (o.input ? readTextFile(o.input as string) : readStdin()).replace(/^\ufeff/, '').split(/\r?\n/);
        if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop(); // the last newline ends a line, it starts none
        return hfPredict(o, lines);
      }
      const { task } = taskOf(o.model as string);
      const t = cliTask(task, `--model ${String(o.model)}`);
      if (t.refusePredict) throw new UsageError(t.refusePredict); // before waiting on standard input
      const { instance } = loadInstance(t.driver, o.model as string);
      const file = (o.input as string | undefined) ?? '<stdin>';
      const fe = frontEndOf(instance);
      if (fe) {
        const inputs = mediaInputs(o.input as string | undefined, readStdin, fe);
        const outputs = t.driver.predict(instance, inputs, o);
        inputs.forEach((inp, i) => {
          const f = t.format(inp, outputs[i]);
          process.stdout.write((o.json ? JSON.stringify(f.json) : f.line) + '\n');
        });
        return;
      }
      const write = (lines: string[]) => { if (lines.length) process.stdout.write(lines.join('\n') + '\n'); };
      if (o.input || stdinIsFile()) {
        const text = o.input ? readTextFile(o.input as string) : readStdin();
        const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);
        if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop(); // the last newline ends a line, it starts none
        write(answerLines(t, instance, lines, 1, file, o));
        return;
      }
      // a terminal or a pipe: answer each line (or each chunk of lines that came together) as it arrives
      const n = await streamLines((lines, first) => write(answerLines(t, instance, lines, first, file, o)));
      if (!n) throw new UsageError('no input: give --input FILE or pipe lines into standard input');
    });
}

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    throw new UsageError('no input: give --input FILE or pipe lines into standard input');
  }
}

export function infoCommand(): Command {
  return new Command('info')
    .description('describe a trained model: task, model, data, metrics, size')
    .argument('<dir>', 'a run directory or a checkpoint directory')
    .option('--json', 'print as JSON', false)
    .action((dir: string, o: { json: boolean }) => {
      const ckDir = resolveCheckpoint(dir);
      const c = readCheckpointConfig(ckDir);
      const parameters = checkpointValueCount(ckDir);
      const tokPath = join(ckDir, TOKENIZER_FILE);
      const tokenizer = existsSync(tokPath) ? describeTokenizer(parseTokenizerJson(readFileSync(tokPath, 'utf8'), tokPath)) : typeof c.tokenize === 'string' ? `${c.tokenize}` : undefined;
      const frontEnd = (c.featurizer as { frontEnd?: data.FrontEnd } | undefined)?.frontEnd;
      const info = { checkpoint: ckDir, task: c.task, step: c.step, metrics: c.metrics, model: c.model, tokenizer, ...(frontEnd ? { frontEnd } : {}), training: c.training, data: c.meta, stateDictValues: parameters };
      if (o.json) return printJson(info);
      console.log(`${ckDir}: ${String(c.task)} model, step ${String(c.step)}, ${parameters} values in its state dict`);
      console.log(`model     ${JSON.stringify(c.model)}`);
      if (tokenizer) console.log(`tokens    ${tokenizer}`);
      if (frontEnd) console.log(`input     ${data.describeFrontEnd(frontEnd)}`);
      console.log(`data      ${JSON.stringify(c.meta)}`);
      console.log(`metrics   ${Object.entries((c.metrics ?? {}) as Record<string, number>).map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}`);
    });
}
