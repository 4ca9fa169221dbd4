#!/usr/bin/env node
// Greedy generation with ONNX Runtime from a GPT exported by `qkv export --model DIR --onnx gpt.onnx`,
// without qkv: the vocabulary comes from the model's metadata_props, the tokens from the decoder
// graph (gpt.decoder.onnx) run one token at a time on its KV cache (or linear attention's state).
//
//   npm install onnxruntime-node protobufjs
//   node examples/onnx-generate.mjs gpt.decoder.onnx --prompt "ROMEO:" --max-new-tokens 100
//
// Prints the prompt and its continuation (what `qkv generate --temperature 0` prints for the same
// model). Past the block size the context is cropped as qkv and nanoGPT do (idx[:, -block_size:]):
// the cache restarts on the last block_size tokens, since positions are learned per index.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { prompt: { type: 'string', default: '\n' }, 'max-new-tokens': { type: 'string', default: '100' } },
});
const file = positionals[0];
if (!file) {
  console.error('usage: node examples/onnx-generate.mjs MODEL.decoder.onnx [--prompt TEXT] [--max-new-tokens N]');
  process.exit(1);
}
const maxNewTokens = Number(values['max-new-tokens']);
if (!/^\d+$/.test(values['max-new-tokens']) || !Number.isSafeInteger(maxNewTokens)) {
  console.error(`--max-new-tokens: expected an integer >= 0, got "${values['max-new-tokens']}"`);
  process.exit(1);
}
const bytes = readFileSync(file);

// metadata_props is field 14 of ModelProto; protobufjs skips every other field
const root = protobuf.parse(`syntax = "proto3";
  message Entry { string key = 1; string value = 2; }
  message Model { repeated Entry metadata_props = 14; }`, { keepCase: true }).root;
const meta = Object.fromEntries(root.lookupType('Model').decode(bytes).metadata_props.map((e) => [e.key, e.value]));
if (meta.task !== 'lm' || meta.graph !== 'decoder') throw new Error(`${file}: not a qkv GPT decoder graph (task ${meta.task}, graph ${meta.graph})`);
const vocab = JSON.parse(meta.vocab);
const config = JSON.parse(meta.gpt_config);
const tokenize = meta.tokenize;

// the tokenizer: characters, or word pieces (words, whitespace runs, single other characters)
const pieces = vocab.kind === 'chars' ? vocab.chars : vocab.tokens;
const idOf = new Map(pieces.map((p, i) => [p, i]));
const encode = (text) => {
  const parts = tokenize === 'words' ? text.match(/\s+|[\p{L}\p{N}_]+(?:['\u2019][\p{L}\p{N}_]+)*|[^\s\p{L}\p{N}_]/gu) ?? [] : [...text];
  return parts.map((p) => {
    const id = idOf.get(p) ?? idOf.get('<unk>');
    if (id === undefined) throw new Error(`the prompt has "${p}", which the vocabulary lacks`);
    return id;
  });
};

const session = await ort.InferenceSession.create(bytes);
const hs = config.nEmbd / config.nHead;
const linear = config.attention === 'linear';
const emptyPast = () => {
  const feed = {};
  for (let i = 0; i < config.nLayer; i++) {
    if (linear) {
      feed[`past_S_${i}`] = new ort.Tensor('float32', new Float32Array(config.nHead * hs * hs), [1, config.nHead, hs, hs]);
      feed[`past_z_${i}`] = new ort.Tensor('float32', new Float32Array(config.nHead * hs), [1, config.nHead, hs]);
    } else {
      feed[`past_key_${i}`] = new ort.Tensor('float32', new Float32Array(0), [1, config.nHead, 0, hs]);
      feed[`past_value_${i}`] = new ort.Tensor('float32', new Float32Array(0), [1, config.nHead, 0, hs]);
    }
  }
  return feed;
};
const ids = encode(values.prompt);
if (!ids.length) {
  console.error('--prompt: empty; give at least one character');
  process.exit(1);
}
let feed = emptyPast();
let input = ids.slice(-config.blockSize);
let seen = 0;
const out = [];
for (let step = 0; step < maxNewTokens; step++) {
  if (linear) feed.past_length = new ort.Tensor('int64', BigInt64Array.of(BigInt(seen)), []);
  const r = await session.run({ ...feed, idx: new ort.Tensor('int64', BigInt64Array.from(input.map(BigInt)), [1, input.length]) });
  const logits = r.logits.data.subarray(r.logits.data.length - config.vocabSize);
  let next = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v] > logits[next]) next = v;
  out.push(next);
  ids.push(next);
  seen += input.length;
  feed = {};
  for (const [k, t] of Object.entries(r)) if (k.startsWith('present_')) feed[k.replace('present_', 'past_')] = t;
  if (seen + 1 > config.blockSize) {
    // crop: restart on the last block_size tokens with an empty past
    feed = emptyPast();
    input = ids.slice(-config.blockSize);
    seen = 0;
  } else input = [next];
}
process.stdout.write(values.prompt + out.map((i) => pieces[i]).join('') + '\n');
