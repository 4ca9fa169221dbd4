// `shapes`: 16×16 gray images of one of four shapes (a plus, an ×, a hollow square, a filled
// disk) of random size (5-9 px) at a random place, random brightness on a random background,
// with Gaussian pixel noise. Label = the shape.
//
// Why it is a good test (lecture: "CNN is self-attention with a fixed receptive field; it wins
// with little data, self-attention with much"): the classes are told apart by small local
// patterns (line crossings, corners, diagonals) that can sit anywhere, which a CNN's shared
// 3×3 filters and pooling assume by construction; a patch-attention model must learn from
// data that a pattern means the same wherever it sits, and needs more examples to do it.
import { Generator } from '../../core/rng.js';
import type { ClassifiedExample } from '../types.js';
import { imageFrontEnd, toImageInput, type Pixels } from '../image/pixels.js';
import { builtinOrigin, checkCount } from './common.js';

export const SHAPE_CLASSES: readonly string[] = ['plus', 'cross', 'square', 'disk'];
export const SHAPES_SIZE = 16;
/** The front end of the set: 16×16 gray, normalised to [-1, 1]. */
export const SHAPES_FRONT_END = imageFrontEnd({ channels: 1, height: SHAPES_SIZE, width: SHAPES_SIZE, mean: [0.5], std: [0.5] });

export interface ShapesOptions {
  /** Standard deviation of the pixel noise (default 0.12). */
  noise?: number;
}

/**
 * Paints `shape` of side `size` at (top, left) into a gray S×S canvas with brightness `fg`:
 * a plus, an ×, a hollow square or a filled disk.
 */
export function paintShape(data: Float32Array, S: number, shape: string, size: number, top: number, left: number, fg: number): void {
  const c = (size - 1) / 2;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const on = shape === 'plus' ? Math.abs(i - c) < 0.6 || Math.abs(j - c) < 0.6
        : shape === 'cross' ? Math.abs(i - j) < 0.6 || Math.abs(i + j - (size - 1)) < 0.6
          : shape === 'square' ? i === 0 || j === 0 || i === size - 1 || j === size - 1
            : (i - c) ** 2 + (j - c) ** 2 <= (c + 0.3) ** 2;
      if (on) data[(top + i) * S + left + j] = fg;
    }
  }
}

/** Gaussian pixel noise, clipped to [0, 1]. */
export function addPixelNoise(data: Float32Array, noise: number, g: Generator): void {
  for (let k = 0; k < data.length; k++) data[k] = Math.min(1, Math.max(0, data[k]! + noise * g.normal()));
}

/** One image of `shape` as Pixels (gray, values in [0, 1]). */
export function drawShape(shape: string, g: Generator, noise = 0.12): Pixels {
  const S = SHAPES_SIZE;
  const size = g.int(5, 10);
  const [top, left] = [g.int(0, S - size + 1), g.int(0, S - size + 1)];
  const bg = 0.3 * g.uniform();
  const fg = 0.65 + 0.35 * g.uniform();
  const data = new Float32Array(S * S).fill(bg);
  paintShape(data, S, shape, size, top, left, fg);
  addPixelNoise(data, noise, g);
  return { width: S, height: S, channels: 1, data };
}

/** `n` labelled images (classes in turn, so every class has n/4), from `seed`. */
export function generateShapes(seed: number, n: number, options: ShapesOptions = {}): ClassifiedExample[] {
  checkCount('shapes', n);
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = SHAPE_CLASSES[i % SHAPE_CLASSES.length]!;
    const image = toImageInput(drawShape(label, g, options.noise), SHAPES_FRONT_END, 'shapes');
    return { image, label, origin: builtinOrigin('shapes', i) };
  });
}
