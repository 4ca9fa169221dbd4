// Test helper process (not a test): saves checkpoints in a loop until killed. Every tensor of
// save number k holds the value k, so a reader can tell whether a checkpoint mixes saves.
import * as q from '../../src/index.js';
import { nn } from '../../src/index.js';

const target = process.argv[2]!;
const model = new nn.Linear(600, 600);
for (let version = 1; ; version++) {
  q.noGrad(() => {
    q.fill_(model.weight, version);
    q.fill_(model.bias!, version);
  });
  q.saveCheckpoint(target, { config: { version }, model, trainer: { version } });
  process.stdout.write(`${version}\n`);
}
