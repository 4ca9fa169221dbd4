// Lecture §4: on a graph, attend only along the edges; that makes self-attention a graph
// neural network. Node labelling on the built-in "graph" set: attention along edges, full
// attention (edges ignored), and a fully-connected network (each node alone).
import { builtinDataset } from '../data/builtin/index.js';
import { split } from '../data/split.js';
import type { TaggedExample } from '../data/types.js';
import { bySize, type ExperimentDef } from './runner.js';
import { heldWord, order, pct } from './stats.js';
import { trainTagger } from './train.js';

export interface GraphConfig {
  graphs: number;
  steps: number;
  lr: number;
  batchSize: number;
  dModel: number;
}

export const graph: ExperimentDef<GraphConfig> = {
  name: 'graph',
  title: 'Graphs: attention along the edges vs full attention vs fully-connected',
  section: '§4',
  claim: 'self-attention restricted to the edges (a graph network) labels more nodes correctly than attention that ignores the edges and than a network that sees one node, on every seed',
  config: (size) => ({ graphs: bySize(size, 100, 800, 1600), steps: bySize(size, 15, 300, 500), lr: 3e-3, batchSize: bySize(size, 16, 16, 16), dModel: bySize(size, 16, 32, 32) }),
  units: () => 3,
  runSeed(c, seed, tick) {
    const [train, dev] = split(builtinDataset('graph', { seed, n: c.graphs }), [0.85, 0.15], seed) as [TaggedExample[], TaggedExample[]];
    const noEdges = (xs: TaggedExample[]) => xs.map(({ edges: _edges, ...rest }) => rest);
    const runs: [string, TaggedExample[], TaggedExample[], 'transformer' | 'fc'][] = [
      ['attention along edges', train, dev, 'transformer'],
      ['full attention', noEdges(train), noEdges(dev), 'transformer'],
      ['fully-connected', noEdges(train), noEdges(dev), 'fc'],
    ];
    return runs.map(([series, tr, dv, kind]) => {
      const r = trainTagger({ train: tr, dev: dv, model: { kind, dModel: c.dModel, layers: 2, heads: 4, pos: 'none' }, steps: c.steps, lr: c.lr, batchSize: c.batchSize, seed });
      tick(series);
      return { series, x: 'nodes', measure: 'accuracy', value: r.metrics.accuracy! };
    });
  },
  measures: { accuracy: { title: 'node accuracy', unit: '%' } },
  charts: [{ id: 'accuracy', title: 'Node labelling accuracy', measure: 'accuracy', mark: 'bar', xTitle: '', yTitle: 'accuracy', xType: 'nominal' }],
  verdict(t) {
    const e = t.get('attention along edges', 'nodes', 'accuracy');
    const f = t.get('full attention', 'nodes', 'accuracy');
    const fc = t.get('fully-connected', 'nodes', 'accuracy');
    const [vsFull, vsFc] = [order(e, f), order(e, fc)];
    const held = vsFull === 'above' && vsFc === 'above';
    const word = (o: string) => (o === 'above' ? 'the edges ahead on every seed' : o === 'below' ? 'the edges behind on every seed' : 'within noise');
    return { held, text: `Attention along the edges labelled ${pct(e.mean)} of the nodes, full attention ${pct(f.mean)} (${word(vsFull)}) and the fully-connected network ${pct(fc.mean)} (${word(vsFc)}), so the claim ${heldWord(held)} on this run.` };
  },
};
