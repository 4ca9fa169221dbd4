// Writes a PyTorch hand-off (Node): DIR/model.safetensors and DIR/config.json, replaced together or not at all.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { QkvError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { fsReason, writeFilesTogether } from './atomic-file.js';
import { safetensorsWrite } from './safetensors-file.js';

export function saveTorchHandoff(dir: string, h: { tensors: Map<string, Tensor>; config: Record<string, unknown> }): { path: string; what: string; bytes: number }[] {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const reason = fsReason(e);
    if (reason === null) throw e;
    throw new QkvError(`${dir}: cannot create the directory: ${reason}`);
  }
  const weights = join(dir, 'model.safetensors');
  const config = join(dir, 'config.json');
  const json = new TextEncoder().encode(JSON.stringify(h.config, null, 2) + '\n');
  writeFilesTogether([
    safetensorsWrite(weights, h.tensors, { format: 'pt' }),
    { path: config, chunks: [json], fail: (message) => new QkvError(`${config}: ${message}`) },
  ]);
  const bytes = [...h.tensors.values()].reduce((n, t) => n + 4 * t.size, 0);
  return [
    { path: weights, what: `state dict, PyTorch names (${h.tensors.size} tensors)`, bytes },
    { path: config, what: `config for scripts/torch_handoff.py (${String(h.config.kind)})`, bytes: json.length },
  ];
}
