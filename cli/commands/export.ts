// `qkv export`: a trained model as ONNX graphs (--onnx) for ONNX Runtime, and/or as safetensors
// + config JSON with PyTorch/nanoGPT names (--torch) for scripts/torch_handoff.py.
import { Command } from 'commander';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { exportOnnx, exportTorch, loadInstance, onnxPath, refuseOverwritingInputs, saveOnnx, saveTorchHandoff } from '../../src/index.js';
import { cliTask } from '../tasks.js';
import { applyConfig, checkOutputPath, choice, int, printJson, UsageError } from '../shared.js';
import { taskOf } from './use.js';
import { whileWriting } from '../interrupts.js';
import { hfExport, isPretrainedDir } from './hf.js';

/** Rotary tables of --max-len rows (x head width / 2, cos and sin) go into the ONNX file, which protobuf caps at 2 GiB. */
const MAX_ROPE_POSITIONS = 1 << 20;

export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained model: ONNX graphs for ONNX Runtime (--onnx), or safetensors + config for PyTorch (--torch)')
    .requiredOption('--model <dir>', 'a run directory (its best model) or a checkpoint directory')
    .option('--onnx <file>', 'write the ONNX model here (lm and seq2seq also write FILE minus .onnx plus .decoder.onnx)')
    .option('--torch <dir>', 'write model.safetensors and config.json (PyTorch/nanoGPT names) into this directory')
    .addOption(choice('--opset <n>', 'ONNX opset: 17 (LayerNormalization as one node) or 23 (the Attention operator too)', ['17', '23'], '17'))
    .option('--max-len <n>', 'ONNX: positions the rotary tables cover (RoPE models)', int('--max-len', 1, MAX_ROPE_POSITIONS, 'its cos/sin tables are stored in the file, and an ONNX file holds at most 2 GiB'), 4096)
    .option('--graph-input', 'ONNX, tag/classify: add an attn_mask (B, T, T) input for graph data (1 = no edge)', false)
    .option('--merge-lora', 'a PEFT LoRA adapter directory as --model: fold the adapter into its base model and save that (save_pretrained layout) in --out', false)
    .option('--out <dir>', 'with --merge-lora: where the merged model is saved')
    .option('--json', 'print what was written as JSON', false)
    .option('--config <file>', 'JSON file of flag values')
    .action((_o, cmd: Command) => {
      const o = applyConfig(cmd);
      for (const flag of ['onnx', 'torch', 'out']) if (typeof o[flag] === 'string') checkOutputPath(`--${flag}`, o[flag] as string, flag === 'onnx' ? 'file' : 'directory');
      if (isPretrainedDir(o.model)) return hfExport(o);
      if (o.mergeLora) throw new UsageError(`--merge-lora: ${String(o.model)} is not a PEFT adapter directory (adapter_config.json)`);
      if (!o.onnx && !o.torch) throw new UsageError('qkv export needs --onnx FILE and/or --torch DIR');
      const { task } = taskOf(o.model as string);
      const t = cliTask(task, `--model ${String(o.model)}`);
      const { instance, dir } = loadInstance(t.driver, o.model as string);
      // never write over the checkpoint being read (its config.json, model.safetensors, ...)
      const inputs = readdirSync(dir).map((f) => join(dir, f));
      const outputs: [string, string][] = [
        ...(o.onnx ? (['model', 'decoder'] as const).map((r): [string, string] => ['--onnx', onnxPath(o.onnx as string, r)]) : []),
        ...(o.torch ? ['model.safetensors', 'config.json'].map((f): [string, string] => ['--torch', join(o.torch as string, f)]) : []),
      ];
      for (const [flag, path] of outputs) refuseOverwritingInputs(path, inputs, (m) => new UsageError(`${flag} ${o[flag.slice(2)] as string}: ${path} ${m}`));
      const written: { path: string; what: string; bytes: number; notes?: string[] }[] = [];
      // everything is built in memory first: a model that cannot be exported writes nothing
      const onnx = o.onnx ? exportOnnx(instance, { opset: Number(o.opset), maxLen: o.maxLen as number, graphInput: o.graphInput as boolean }) : null;
      const torch = o.torch ? exportTorch(instance) : null;
      whileWriting(() => {
        if (onnx) saveOnnx(o.onnx as string, onnx).forEach((path, i) => written.push({ path, what: onnx[i]!.what, bytes: onnx[i]!.bytes.length, notes: onnx[i]!.notes }));
        if (torch) for (const w of saveTorchHandoff(o.torch as string, torch)) written.push(w);
      });
      if (o.json) printJson({ model: o.model, task, written });
      else {
        for (const w of written) {
          console.log(`${w.path}  ${w.what} (${(w.bytes / 1024).toFixed(1)} KiB)`);
          // what ONNX has no operator for, and so went in as primitive ops
          for (const n of w.notes ?? []) console.log(`  ${n}`);
        }
      }
    });
}
