// The products of the Hugging Face bench's training steps (GPT-2 small / BERT base, 4 × 128 tokens),
// shape by shape, in qkv (native, this build) and in PyTorch (QKV_BENCH_PYTHON) in turns: GFLOP/s
// of each, medians. Which GEMM shapes hold a step back. Run after `npm run build`, under the bench lock:
//   node scripts/hf-gemm-shapes.mjs [--reps N] [--rounds N] [--dist DIR] [--no-torch]
import { spawnSync } from 'node:child_process';
import { median } from '../bench/timing.mjs';
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const dist = arg('dist', new URL('../dist', import.meta.url).pathname);
const q = await import(`${dist}/src/index.js`);
const reps = Number(arg('reps', 5));
const rounds = Number(arg('rounds', 2));
const python = process.env.QKV_BENCH_PYTHON || '/usr/bin/python3'; // as the bench: bench/lib.mjs PYTHON
// [m, k, n, A stored transposed, B stored transposed, what]
const shapes = [
  [512, 768, 2304, false, false, 'GPT-2 c_attn forward x·W'],
  [512, 2304, 768, false, true, 'GPT-2 c_attn dX g·Wᵀ'],
  [512, 768, 3072, false, false, 'GPT-2 c_fc forward'],
  [512, 3072, 768, false, true, 'GPT-2 c_fc dX'],
  [512, 3072, 768, false, false, 'GPT-2 mlp c_proj forward'],
  [512, 768, 3072, false, true, 'GPT-2 mlp c_proj dX'],
  [512, 768, 768, false, false, 'GPT-2 attn c_proj forward'],
  [512, 768, 768, false, true, 'GPT-2 attn c_proj dX / BERT Linear forward'],
  [512, 768, 50257, false, true, 'lm_head forward x·wteᵀ'],
  [512, 50257, 768, false, false, 'lm_head dX g·wte'],
  [512, 768, 3072, false, true, 'BERT intermediate forward x·Wᵀ'],
  [512, 3072, 768, false, true, 'BERT output forward x·Wᵀ'],
];

function qkvTimes() {
  return shapes.map(([m, k, n, ta, tb]) => {
    const a = ta ? q.randn([k, m]) : q.randn([m, k]);
    const b = tb ? q.randn([n, k]) : q.randn([k, n]);
    const av = ta ? q.transpose(a) : a;
    const bv = tb ? q.transpose(b) : b;
    const run = () => q.noGrad(() => q.matmul(av, bv).dispose());
    run();
    const ts = [];
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      run();
      ts.push(performance.now() - t);
    }
    a.dispose();
    b.dispose();
    return median(ts);
  });
}

const py = `
import json, sys, time, statistics, torch
shapes, reps = json.load(sys.stdin)
out = []
for m, k, n, ta, tb, _ in shapes:
    a = torch.randn(k, m).t() if ta else torch.randn(m, k)
    b = torch.randn(n, k).t() if tb else torch.randn(k, n)
    torch.matmul(a, b)
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); torch.matmul(a, b); ts.append((time.perf_counter() - t) * 1000)
    out.append(statistics.median(ts))
print(json.dumps({'times': out, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))
`;
function torchTimes() {
  const r = spawnSync(python, ['-c', py], { input: JSON.stringify([shapes, reps]), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

console.log(`backend ${q.describeBackend?.() ?? q.getBackend().name}; ${dist}; ${rounds} rounds, ${reps} reps each; load ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}`);
const noTorch = process.argv.includes('--no-torch');
const Q = [];
const T = [];
let info = '';
for (let r = 0; r < rounds; r++) {
  Q.push(qkvTimes());
  if (!noTorch) {
    const t = torchTimes();
    T.push(t.times);
    info = `PyTorch ${t.torch}, ${t.threads} threads`;
  }
}
if (info) console.log(info);
const gf = (m, k, n, ms) => (2 * m * k * n) / ms / 1e6;
let sq = 0;
let st = 0;
for (const [i, [m, k, n, ta, tb, what]] of shapes.entries()) {
  const tq = median(Q.map((x) => x[i]));
  const tt = noTorch ? NaN : median(T.map((x) => x[i]));
  sq += tq;
  st += tt;
  const label = `${m}×${k}·${k}×${n}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`;
  console.log(`${label.padEnd(26)} qkv ${tq.toFixed(1).padStart(7)} ms ${gf(m, k, n, tq).toFixed(0).padStart(4)} GFLOP/s   torch ${tt.toFixed(1).padStart(7)} ms ${gf(m, k, n, tt).toFixed(0).padStart(4)} GFLOP/s   qkv/torch ${(tq / tt).toFixed(2)}  ${what}`);
}
console.log(`sum: qkv ${sq.toFixed(0)} ms, torch ${st.toFixed(0)} ms (${(sq / st).toFixed(2)})`);
