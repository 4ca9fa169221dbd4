// A small, highly predictable English text for language-model tests: six sentences in a
// seeded random order, with a line break after about one in five. Within a sentence every
// character follows from the ones before it; only the choice of the next sentence is random
// (about log(6) nats once per ~24 characters), so a small GPT gets well below 1 nat per character.
import { Generator } from '../../src/index.js';

export const SENTENCES = [
  'the cat sat on the mat.', 'a dog ran in the park.', 'birds sing in the morning.',
  'she reads a book at night.', 'we drink tea with milk.', 'the sun is warm today.',
];

export function syntheticText(chars = 20000, seed = 42): string {
  const g = new Generator(seed);
  let text = '';
  while (text.length < chars) text += SENTENCES[g.int(0, SENTENCES.length)]! + (g.uniform() < 0.2 ? '\n' : ' ');
  return text;
}
