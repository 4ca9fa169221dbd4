// Exported ONNX graphs on disk (Node): each file written atomically (temp file, fsync, rename),
// so a half-written .onnx is never left behind.
import { QkvError } from '../core/errors.js';
import { writeFileAtomic } from './atomic-file.js';

/** Where a graph of `role` goes for `--onnx path`: the model at path, the decoder beside it (x.onnx -> x.decoder.onnx). */
export function onnxPath(path: string, role: 'model' | 'decoder'): string {
  if (role === 'model') return path;
  return path.endsWith('.onnx') ? `${path.slice(0, -'.onnx'.length)}.decoder.onnx` : `${path}.decoder.onnx`;
}

/** Writes the graphs of exportOnnx; returns the paths written. Errors are one line starting with the path. */
export function saveOnnx(path: string, files: readonly { role: 'model' | 'decoder'; bytes: Uint8Array }[]): string[] {
  return files.map((f) => {
    const p = onnxPath(path, f.role);
    writeFileAtomic(p, [f.bytes], (message) => new QkvError(`${p}: ${message}`));
    return p;
  });
}
