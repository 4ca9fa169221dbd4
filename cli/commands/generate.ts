// `qkv generate`: sample text from a trained language model (nanoGPT's sample.py): start from
// --prompt ("\n" by default, as sample.py), generate --max-new-tokens tokens with temperature,
// top-k and top-p, print the prompt and its continuation. Decoding uses KV caches (softmax
// attention) or the recurrent state (linear attention); the context is cropped to the block
// size as nanoGPT does.
import { Command } from 'commander';
import { CheckpointError, defaultPrompt, generateAsync, Generator, lmDriver, loadInstance, readCheckpointConfig, resolveCheckpoint } from '../../src/index.js';
import { applyConfig, float, int, printJson, UsageError } from '../shared.js';
import { hfGenerate, isPretrainedDir } from './hf.js';

export function generateCommand(): Command {
  return new Command('generate')
    .description('sample text from a language model trained with qkv train lm')
    .requiredOption('--model <dir>', 'a run directory (its best model), a checkpoint directory, or a Hugging Face GPT-2 directory (save_pretrained; a PEFT adapter on one)')
    .option('--prompt <text>', 'text to continue (default: "\\n", as nanoGPT\'s sample.py)')
    .option('--max-new-tokens <n>', 'tokens to generate per sample', int('--max-new-tokens', 0), 500)
    .option('--temperature <x>', 'softmax temperature (0: greedy)', float('--temperature', 0), 0.8)
    .option('--top-k <n>', 'sample from the k most likely tokens only', int('--top-k', 1), 200)
    .option('--top-p <x>', 'nucleus sampling: the smallest set of tokens with this much probability', float('--top-p', 0, 1), 1)
    .option('--num-samples <n>', 'independent samples (separated by a line of dashes)', int('--num-samples', 1), 1)
    .option('--seed <n>', 'random seed of the sampling', int('--seed', 0), 1337)
    .option('--no-cache', 're-run the whole context for every token instead of using KV caches / recurrent state')
    .option('--json', 'print {prompt, samples, ...} as JSON', false)
    .option('--config <file>', 'JSON file of flag values')
    .action(async (_o, cmd: Command) => {
      const o = applyConfig(cmd);
      if (!((o.topP as number) > 0)) throw new UsageError('--top-p must be > 0 and <= 1');
      if (isPretrainedDir(o.model)) return hfGenerate(o); // a Hugging Face GPT-2 directory (or a PEFT adapter on one)
      const dir = o.model as string;
      const { task } = readCheckpointConfig(resolveCheckpoint(dir));
      if (task !== 'lm') {
        throw new CheckpointError(`--model ${dir}: this is a ${String(task)} model; qkv generate needs a language model (qkv train lm)`);
      }
      const { instance } = loadInstance(lmDriver, dir);
      const prompt = (o.prompt as string | undefined) ?? defaultPrompt(instance);
      const generator = new Generator(o.seed as number);
      const samples: string[] = [];
      const t0 = performance.now();
      for (let i = 0; i < (o.numSamples as number); i++) {
        const text = await generateAsync(instance, prompt, {
          maxNewTokens: o.maxNewTokens as number, temperature: o.temperature as number, topK: o.topK as number, topP: o.topP as number,
          generator, useCache: o.cache !== false,
        });
        samples.push(text);
        if (!o.json) process.stdout.write(`${i ? '---------------\n' : ''}${prompt}${text}\n`);
      }
      const seconds = (performance.now() - t0) / 1000;
      const tokens = samples.length * (o.maxNewTokens as number);
      if (o.json) {
        printJson({ model: dir, prompt, samples, tokens, seconds: Number(seconds.toFixed(3)), tokensPerSecond: seconds > 0 ? Math.round(tokens / seconds) : null });
      }
    });
}
