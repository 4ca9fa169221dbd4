// `graph`: node labeling on random graphs with community structure. A graph has 8-20 nodes
// split into 2-4 communities; each community is one of four classes (GRAPH_CLASSES), and a
// node's label is its community's class. Two nodes of one community are linked with
// probability pIn (0.5), of different communities with pOut (0.04), and every node gets at
// least one neighbour in its own community. Node features = the class's mean vector (fixed
// across seeds) + heavy Gaussian noise; node order is shuffled. Edges are undirected, each
// listed once as [i, j] with i < j.
//
// Why it is a good test: a node's own features give about 66% (the nearest true class mean,
// the best a per-node classifier can do), while ~87% of edges join nodes of one class, so the
// mean over the node and its neighbours (degree ~2.9) already gives about 84%;
// attention masked to the graph's edges (nn.graphMask) can do that, a per-node classifier
// cannot, and full attention has to discover the communities from the features alone.
import { QkvError } from '../../core/errors.js';
import { Generator } from '../../core/rng.js';
import type { TaggedExample } from '../types.js';
import { between, builtinOrigin, checkCount, checkRange, fixedMeans, pick } from './common.js';

export const GRAPH_CLASSES: readonly string[] = ['c0', 'c1', 'c2', 'c3'];

export interface GraphOptions {
  /** Node count range (default 8-20). */
  minNodes?: number;
  maxNodes?: number;
  /** Community count range (default 2-4, at most 4). */
  minCommunities?: number;
  maxCommunities?: number;
  /** Feature dimension (default 8). */
  dim?: number;
  /** Standard deviation of the feature noise (default 2.2; the class means are N(0, 1) vectors). */
  noise?: number;
  /** Edge probability within a community (default 0.5) and between communities (default 0.04). */
  pIn?: number;
  pOut?: number;
}

/** The mean feature vector of each class (fixed, whatever the seed). */
export function graphClassMeans(dim = 8): number[][] {
  return fixedMeans(0x96a9, GRAPH_CLASSES.length, dim, 1);
}

/** `n` graphs with a class label per node, from `seed` (same seed, same graphs). */
export function generateGraph(seed: number, n: number, options: GraphOptions = {}): TaggedExample[] {
  const { minNodes = 8, maxNodes = 20, minCommunities = 2, maxCommunities = 4, dim = 8, noise = 2.2, pIn = 0.5, pOut = 0.04 } = options;
  checkCount('graph', n);
  checkRange('graph', 'dim', dim, dim);
  checkRange('graph', 'communities', minCommunities, maxCommunities);
  if (maxCommunities > GRAPH_CLASSES.length) throw new QkvError(`builtin graph: at most ${GRAPH_CLASSES.length} communities, asked for ${maxCommunities}`);
  checkRange('graph', 'nodes', minNodes, maxNodes, 2 * maxCommunities);
  const means = graphClassMeans(dim);
  const g = new Generator(seed);
  const out: TaggedExample[] = [];
  for (let i = 0; i < n; i++) {
    const size = between(g, minNodes, maxNodes);
    const classes = g.shuffle([...GRAPH_CLASSES.keys()]).slice(0, between(g, minCommunities, maxCommunities));
    // two nodes per community first, the rest anywhere; then shuffle the node order
    const community = classes.flatMap((c) => [c, c]);
    while (community.length < size) community.push(pick(g, classes));
    g.shuffle(community);
    const linked = new Set<string>();
    const edges: [number, number][] = [];
    const link = (a: number, b: number) => {
      const [x, y] = a < b ? [a, b] : [b, a];
      if (!linked.has(`${x},${y}`)) edges.push([x, y]), linked.add(`${x},${y}`);
    };
    for (let a = 0; a < size; a++) {
      for (let b = a + 1; b < size; b++) if (g.uniform() < (community[a] === community[b] ? pIn : pOut)) link(a, b);
    }
    for (let a = 0; a < size; a++) {
      const mates = community.flatMap((c, b) => (c === community[a] && b !== a ? [b] : []));
      if (!mates.some((b) => linked.has(a < b ? `${a},${b}` : `${b},${a}`))) link(a, pick(g, mates));
    }
    edges.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    const frames = community.map((c) => means[c]!.map((x) => x + noise * g.normal()));
    out.push({ frames, edges, labels: community.map((c) => GRAPH_CLASSES[c]!), origin: builtinOrigin('graph', i) });
  }
  return out;
}
