// `relations`: 16×16 gray images with one or two of the `shapes` set's shapes (plus, ×, hollow
// square, filled disk; 5–6 px, anywhere, random brightness on a random background, pixel noise).
// Six labels, in turn: an image with one shape is labelled by its kind (plus, cross, square,
// disk); an image with two is labelled "same" when both are of one kind and "different" when not.
//
// Why (lecture §5, "with little data the CNN wins, with enough data self-attention wins"): the
// single-shape labels are decided by small local patterns (crossings, corners, diagonals) that a
// CNN's shared 3×3 filters and pooling assume by construction, so a small CNN learns them from
// few images; "same"/"different" is a relation between two places that may sit anywhere, up to
// the whole image apart. A CNN relates them only inside its receptive field (two blocks of 3×3
// convolution and 2×2 pooling see 10×10 of the 16×16 pixels), and after averaging over the image a linear head
// cannot tell "two of one kind" from "one each of two kinds" (the 2·e_a vs e_a + e_b argument);
// patch self-attention can relate any two patches in one layer but has to learn from data that a
// pattern means the same wherever it sits. Who wins at which size is what the experiment measures:
// the CNN may learn the relation too (the shapes are often close), attention may never learn it in
// the budget; nothing here fixes the outcome.
import { Generator } from '../../core/rng.js';
import type { ClassifiedExample } from '../types.js';
import { imageFrontEnd, toImageInput } from '../image/pixels.js';
import { builtinOrigin, checkCount } from './common.js';
import { addPixelNoise, paintShape, SHAPE_CLASSES } from './shapes.js';

export const RELATIONS_SIZE = 16;
export const RELATION_CLASSES: readonly string[] = [...SHAPE_CLASSES, 'same', 'different'];
/** The front end of the set: 16×16 gray, normalised to [-1, 1]. */
export const RELATIONS_FRONT_END = imageFrontEnd({ channels: 1, height: RELATIONS_SIZE, width: RELATIONS_SIZE, mean: [0.5], std: [0.5] });

export interface RelationsOptions {
  /** Standard deviation of the pixel noise (default 0.12). */
  noise?: number;
}

interface Placed { shape: string; size: number; top: number; left: number }

/** Two boxes apart by at least one pixel. */
const apart = (a: Placed, b: Placed): boolean =>
  a.top + a.size < b.top || b.top + b.size < a.top || a.left + a.size < b.left || b.left + b.size < a.left;

function place(shape: string, g: Generator): Placed {
  const size = g.int(5, 7);
  return { shape, size, top: g.int(0, RELATIONS_SIZE - size + 1), left: g.int(0, RELATIONS_SIZE - size + 1) };
}

/** The shapes of one image with label `label`. */
function shapesFor(label: string, g: Generator): Placed[] {
  if (SHAPE_CLASSES.includes(label)) return [place(label, g)];
  const a = SHAPE_CLASSES[g.int(0, SHAPE_CLASSES.length)]!;
  let b = a;
  while (label === 'different' && b === a) b = SHAPE_CLASSES[g.int(0, SHAPE_CLASSES.length)]!;
  let first = place(a, g);
  // a large first shape near the middle can leave no room for a second one apart from it: after
  // a few misses the first is placed again (retrying only the second could loop forever)
  for (let miss = 0; ; miss++) {
    if (miss === 64) { first = place(a, g); miss = 0; }
    const second = place(b, g);
    if (apart(first, second)) return [first, second];
  }
}

/** `n` labelled images (labels in turn, so each of the six has n/6), from `seed`. */
export function generateRelations(seed: number, n: number, options: RelationsOptions = {}): ClassifiedExample[] {
  checkCount('relations', n);
  const g = new Generator(seed);
  const S = RELATIONS_SIZE;
  return Array.from({ length: n }, (_, i) => {
    const label = RELATION_CLASSES[i % RELATION_CLASSES.length]!;
    const data = new Float32Array(S * S).fill(0.3 * g.uniform());
    for (const p of shapesFor(label, g)) paintShape(data, S, p.shape, p.size, p.top, p.left, 0.65 + 0.35 * g.uniform());
    addPixelNoise(data, options.noise ?? 0.12, g);
    const image = toImageInput({ width: S, height: S, channels: 1, data }, RELATIONS_FRONT_END, 'relations');
    return { image, label, origin: builtinOrigin('relations', i) };
  });
}
