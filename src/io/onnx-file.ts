// Exported ONNX graphs on disk (Node): the files of one export (x.onnx + x.decoder.onnx) are
// written together (temp files, fsync, renames), so a half-written .onnx is never left behind and
// x.onnx is not replaced when its decoder cannot be written.
import { QkvError } from '../core/errors.js';
import { writeFilesTogether } from './atomic-file.js';

/** Where a graph of `role` goes for `--onnx path`: the model at path, the decoder beside it (x.onnx -> x.decoder.onnx). */
export function onnxPath(path: string, role: 'model' | 'decoder'): string {
  if (role === 'model') return path;
  return path.endsWith('.onnx') ? `${path.slice(0, -'.onnx'.length)}.decoder.onnx` : `${path}.decoder.onnx`;
}

/** Writes the graphs of exportOnnx; returns the paths written. Errors are one line starting with the path. */
export function saveOnnx(path: string, files: readonly { role: 'model' | 'decoder'; bytes: Uint8Array }[]): string[] {
  const writes = files.map((f) => {
    const p = onnxPath(path, f.role);
    return { path: p, chunks: [f.bytes], fail: (message: string) => new QkvError(`${p}: ${message}`) };
  });
  writeFilesTogether(writes);
  return writes.map((w) => w.path);
}
