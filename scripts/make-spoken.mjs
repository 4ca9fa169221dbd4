// Writes data/spoken/: the built-in spoken-word set for keyword spotting, synthesised with
// Debian's espeak-ng (varied voices, speeds, pitches, leading silence and white noise) and
// stored as 8 kHz 8-bit PCM WAV files with a list.tsv of path<TAB>word. The words are
// anagrams (stop / pots / tops / spot, cat / act / tack): the same sounds in another order,
// so a model that looks at each frame alone cannot tell them apart; order decides.
// Run after `npm run build`:  node scripts/make-spoken.mjs  (output is committed; CI needs no espeak)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { data, Generator } from '../dist/src/index.js';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const out = join(root, 'data', 'spoken');
const WORDS = ['stop', 'pots', 'tops', 'spot', 'cat', 'act', 'tack'];
const VOICES = ['en-us', 'en-gb', 'en-gb-scotland', 'en-gb-x-rp', 'en-029', 'en-gb-x-gbclan', 'en-us+f2', 'en-gb+f4', 'en-us+m3', 'en-gb-x-rp+f3'];
const PER_WORD = 24;
const RATE = 8000;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'spoken-'));
const g = new Generator(11);
const gauss = () => Math.sqrt(-2 * Math.log(1 - g.uniform())) * Math.cos(2 * Math.PI * g.uniform());
const lines = [];
for (const word of WORDS) {
  for (let i = 0; i < PER_WORD; i++) {
    const voice = VOICES[g.int(0, VOICES.length)];
    const speed = g.int(130, 200);
    const pitch = g.int(25, 76);
    const f = join(tmp, 'x.wav');
    execFileSync('espeak-ng', ['-v', voice, '-s', String(speed), '-p', String(pitch), '-w', f, word]);
    const wav = data.parseWav(readFileSync(f), f);
    let x = data.resample(data.toMono(wav), wav.sampleRate, RATE);
    // trim espeak's silence, then put back a random 20-120 ms in front and 20 ms behind
    const loud = (v) => Math.abs(v) > 0.01;
    const a = x.findIndex(loud);
    const b = x.length - [...x].reverse().findIndex(loud);
    x = x.subarray(a, b);
    const lead = Math.floor(RATE * (0.02 + 0.1 * g.uniform()));
    const y = new Float32Array(lead + x.length + Math.floor(RATE * 0.02));
    const peak = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    y.set(x.map((v) => (0.7 * v) / peak), lead);
    const snr = 15 + 15 * g.uniform(); // dB against the peak-normalised speech
    const rms = Math.sqrt(y.reduce((s, v) => s + v * v, 0) / y.length);
    const sigma = rms / 10 ** (snr / 20);
    for (let k = 0; k < y.length; k++) y[k] = Math.max(-1, Math.min(1, y[k] + sigma * gauss()));
    const name = `${word}-${String(i).padStart(2, '0')}.wav`;
    writeFileSync(join(out, name), data.encodeWav([y], RATE, { bits: 8 }));
    lines.push(`${name}\t${word}`);
  }
}
rmSync(tmp, { recursive: true, force: true });
// shuffled, so a head/tail split is a random one
for (let i = lines.length - 1; i > 0; i--) { const j = g.int(0, i + 1); [lines[i], lines[j]] = [lines[j], lines[i]]; }
writeFileSync(join(out, 'list.tsv'), lines.join('\n') + '\n');
console.log(`wrote ${lines.length} clips to ${out}`);
