// bench/torch-policy.mjs: every PyTorch peer of the bench runs under both OpenMP wait policies and
// each time is taken from the faster run, so no setting we chose handicaps the peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const modulePath = new URL('../../../bench/torch-policy.mjs', import.meta.url).href;
type Policy = {
  torchPolicies(env: Record<string, string | undefined>): string[];
  withPolicy(env: Record<string, string | undefined>, policy: string): Record<string, string | undefined>;
  fasterOf(runs: unknown[], names: string[]): Record<string, unknown>;
};
const load = async (): Promise<Policy> => (await import(modulePath)) as Policy;

test('both wait policies unless the user set one', async () => {
  const p = await load();
  assert.deepEqual(p.torchPolicies({}), ['unset', 'PASSIVE']);
  assert.deepEqual(p.torchPolicies({ OMP_WAIT_POLICY: 'ACTIVE' }), ['ACTIVE']);
  assert.equal('OMP_WAIT_POLICY' in p.withPolicy({ OMP_WAIT_POLICY: 'ACTIVE', A: '1' }, 'unset'), false);
  assert.deepEqual(p.withPolicy({ A: '1' }, 'PASSIVE'), { A: '1', OMP_WAIT_POLICY: 'PASSIVE' });
});

test('times take the lower, rates the higher, everything else the first run', async () => {
  const { fasterOf } = await load();
  const a = { torch: '2.13', gpt2: { forwardMs: 210, generateTokensPerS: 25, loss: 4.1 }, ms: { 256: 1.0, 1024: 9 }, wallS: 40 };
  const b = { torch: '2.13', gpt2: { forwardMs: 230, generateTokensPerS: 27, loss: 9.9 }, ms: { 256: 0.8, 1024: 10 }, wallS: 39 };
  const r = fasterOf([a, b], ['unset', 'PASSIVE']);
  assert.deepEqual(r.gpt2, { forwardMs: 210, generateTokensPerS: 27, loss: 4.1 });
  assert.deepEqual(r.ms, { 256: 0.8, 1024: 9 });
  assert.equal(r.wallS, 39);
  assert.equal(r.torch, '2.13');
  assert.equal(r.policy, 'unset+PASSIVE');
  assert.equal(fasterOf([a, { ...a, wallS: 50 }], ['unset', 'PASSIVE']).policy, 'unset');
});

test('a failed run is left out; two failures give the first error', async () => {
  const { fasterOf } = await load();
  assert.deepEqual(fasterOf([{ error: 'boom' }, { ms: 3 }], ['unset', 'PASSIVE']), { ms: 3, policy: 'PASSIVE' });
  assert.deepEqual(fasterOf([{ error: 'one' }, { error: 'two' }], ['unset', 'PASSIVE']), { error: 'one' });
});
