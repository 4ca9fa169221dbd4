// The playground page: pick one of the lecture's tasks and two models, train both in this tab
// (qkv's own library: WebGPU where the page has an adapter, else WebAssembly, on worker threads
// when the page is cross-origin isolated), and watch the loss, the accuracy and α′ of a probe
// change. Training runs in short chunks between frames, so the tab stays responsive.
import { describeBackend, type ModelKind } from '../../src/browser.js';
import { readAddress } from './address.js';
import { chooseBackend } from './backend.js';
import { PlayRun, ProbeError, type ProbeAttention } from './run.js';
import { DEFAULT_SETTINGS, MODEL_NAMES, type PlaySettings } from './settings.js';
import { PLAY_TASKS, playData, playTask, type PlayData, type PlayTask } from './tasks.js';
import { tarDirectory } from './tar.js';
import { drawAlpha, drawLoss, el } from './view.js';

const SEED = 1;
/** Evaluate (accuracy, α′ of the probe) every this many steps. */
const EVAL_EVERY = 20;
/** Train for at most this long before letting the page draw and take input. */
const CHUNK_MS = 35;
const COLORS = { A: '#d97706', B: '#2563eb' } as const;
type Side = keyof typeof COLORS;

interface Slot {
  side: Side;
  card: HTMLElement;
  settings: PlaySettings;
  run: PlayRun | null;
  attention: ProbeAttention | null;
  error: string;
}

const app = document.getElementById('app')!;
let task: PlayTask = PLAY_TASKS[0]!;
let examples: PlayData = playData(task.name, SEED);
let running = false;
let stopAsked = false;
/** Work in progress (building, looking, training); body[data-busy] says how much, so tests can wait for "0". */
let pending = 0;
async function busy<T>(work: () => Promise<T>): Promise<T> {
  document.body.dataset.busy = String(++pending);
  try {
    return await work();
  } finally {
    document.body.dataset.busy = String(--pending);
  }
}

const slots: Record<Side, Slot> = {
  A: { side: 'A', card: el('section'), settings: { ...DEFAULT_SETTINGS, model: 'fc' }, run: null, attention: null, error: '' },
  B: { side: 'B', card: el('section'), settings: { ...DEFAULT_SETTINGS }, run: null, attention: null, error: '' },
};

// --- the controls

function field(label: string, input: HTMLElement, hint = ''): HTMLElement {
  return el('label', { class: 'field' }, el('span', {}, label), input, ...(hint ? [el('small', {}, hint)] : []));
}

function select(options: readonly [string, string][], value: string, attrs: Record<string, string> = {}): HTMLSelectElement {
  const s = el('select', attrs, ...options.map(([v, text]) => el('option', { value: v }, text)));
  s.value = value;
  return s;
}

const number = (value: number, attrs: Record<string, string> = {}): HTMLInputElement => el('input', { type: 'number', value: String(value), ...attrs });

const taskSelect = select(PLAY_TASKS.map((t) => [t.name, t.title]), task.name, { id: 'task' });
const about = el('p', { class: 'about' });
const probeInput = el('input', { id: 'probe', type: 'text', value: task.example, autocomplete: 'off', spellcheck: 'false' });
const probeLabel = el('span');
const stepsInput = number(200, { id: 'steps', min: '1', max: '100000' });
const trainButton = el('button', { id: 'train', type: 'button' }, 'Train');
const stopButton = el('button', { id: 'stop', type: 'button', disabled: '' }, 'Stop');
const resetButton = el('button', { id: 'reset', type: 'button' }, 'Reset both');
const message = el('p', { id: 'message', class: 'error', role: 'alert' });
const status = el('p', { id: 'status', class: 'muted' });
const chart = el('div', { id: 'loss' });

function say(text: string): void {
  message.textContent = text;
}

function settingsForm(slot: Slot): HTMLElement {
  const s = slot.settings;
  const f = el('form', { class: 'settings' });
  const controls: [string, HTMLElement][] = [
    ['model', select(Object.entries(MODEL_NAMES) as [string, string][], s.model, { name: 'model' })],
    ['relevance α', select([['dot', 'dot: q·k/√d'], ['additive', 'additive: w·tanh(q+k)']], s.relevance, { name: 'relevance' })],
    ['normalize', select([['softmax', 'softmax'], ['relu', 'ReLU']], s.normalizer, { name: 'normalizer' })],
    ['linear attention', el('input', { type: 'checkbox', name: 'linear', ...(s.linear ? { checked: '' } : {}) })],
    ['heads', number(s.heads, { name: 'heads', min: '1', max: '16' })],
    ['width d', number(s.width, { name: 'width', min: '2', max: '256' })],
    ['layers', number(s.layers, { name: 'layers', min: '1', max: '4' })],
    ['positions', select([['rope', 'RoPE'], ['sinusoidal', 'sinusoidal'], ['learned', 'learned'], ['none', 'none']], s.pos, { name: 'pos' })],
    ['window', number(s.window, { name: 'window', min: '0', max: '64' })],
    ['learning rate', number(s.lr, { name: 'lr', step: 'any', min: '0' })],
  ];
  for (const [label, input] of controls) f.append(field(label, input));
  f.addEventListener('change', () => {
    const get = (name: string) => f.elements.namedItem(name) as HTMLInputElement;
    slot.settings = {
      model: get('model').value as ModelKind, relevance: get('relevance').value as PlaySettings['relevance'], normalizer: get('normalizer').value as PlaySettings['normalizer'],
      linear: get('linear').checked, heads: get('heads').valueAsNumber, width: get('width').valueAsNumber, layers: get('layers').valueAsNumber,
      pos: get('pos').value as PlaySettings['pos'], window: get('window').valueAsNumber, lr: get('lr').valueAsNumber,
    };
    void rebuild([slot]);
  });
  f.addEventListener('submit', (e) => e.preventDefault());
  return f;
}

const EXPLAIN = 'Row i: the word asking (its query qⁱ); column j: the word answered (its key kʲ). α′ᵢ,ⱼ is the weight of vʲ in bⁱ = Σⱼ α′ᵢ,ⱼ vʲ. With softmax each row sums to 1; ReLU only drops the negative scores, so its rows need not.';
const EXPLAIN_CROSS = 'Cross-attention: row i is the decoder having read <bos> and the first outputs (the correct ones, fed in), asking with its query qⁱ; column j is input letter j, its key kʲ and value vʲ from the encoder. Once the model reverses, each row looks at the letter it must write next: an anti-diagonal.';

function buildCard(slot: Slot): void {
  const c = slot.card;
  c.className = 'card model';
  c.dataset.model = slot.side;
  const which = select([['cross', 'cross-attention (output × input)'], ['self', 'encoder self-attention']], 'cross', { class: 'part', 'aria-label': 'attention' });
  const layer = select([], '0', { class: 'layer', 'aria-label': 'layer' });
  const head = select([], '0', { class: 'head', 'aria-label': 'head' });
  const redraw = () => drawAttention(slot);
  layer.addEventListener('change', redraw);
  which.addEventListener('change', redraw);
  head.addEventListener('change', redraw);
  const save = el('button', { type: 'button', class: 'save' }, 'Save run (.tar)');
  save.addEventListener('click', () => void saveRun(slot));
  c.replaceChildren(
    el('h2', {}, el('span', { class: 'swatch', style: `background:${COLORS[slot.side]}` }), `Model ${slot.side}`),
    settingsForm(slot),
    el('p', { class: 'error', role: 'alert' }),
    el('dl', { class: 'numbers' },
      el('dt', {}, 'step'), el('dd', { class: 'step' }, '0'),
      el('dt', {}, 'loss'), el('dd', { class: 'loss' }, '–'),
      el('dt', {}, 'accuracy'), el('dd', { class: 'accuracy' }, '–'),
      el('dt', {}, 'on ambiguous words'), el('dd', { class: 'ambiguous' }, '–')),
    el('h3', {}, 'α′ for the probe'),
    el('p', { class: 'muted explain' }, EXPLAIN),
    el('div', { class: 'pick' }, field('attention', which), field('layer', layer), field('head', head)),
    el('div', { class: 'attention' }),
    save,
  );
}

const part = (slot: Slot, cls: string) => slot.card.querySelector(`.${cls}`) as HTMLElement;

function renderNumbers(slot: Slot): void {
  const r = slot.run;
  part(slot, 'error').textContent = slot.error;
  const last = r?.losses[r.losses.length - 1];
  const step = part(slot, 'step');
  step.textContent = String(r?.step ?? 0);
  step.dataset.value = String(r?.step ?? 0);
  const loss = part(slot, 'loss');
  loss.textContent = last ? last.loss.toFixed(4) : '–';
  loss.dataset.value = last ? String(last.loss) : '';
  const acc = part(slot, 'accuracy');
  acc.textContent = r?.accuracy != null ? `${(100 * r.accuracy).toFixed(1)}% (held out)` : '–';
  acc.dataset.value = r?.accuracy != null ? String(r.accuracy) : '';
  const amb = part(slot, 'ambiguous');
  amb.textContent = r?.ambiguousAccuracy != null ? `${(100 * r.ambiguousAccuracy).toFixed(1)}%` : '–';
  amb.dataset.value = r?.ambiguousAccuracy != null ? String(r.ambiguousAccuracy) : '';
  amb.hidden = (amb.previousElementSibling as HTMLElement).hidden = task.name !== 'ambiguity';
  // the attention settings apply to self-attention only
  for (const name of ['relevance', 'normalizer', 'linear', 'heads', 'pos', 'window']) {
    const input = slot.card.querySelector(`[name="${name}"]`) as HTMLInputElement;
    input.disabled = slot.settings.model !== 'transformer';
  }
  (slot.card.querySelector('.pick') as HTMLElement).hidden = slot.settings.model !== 'transformer';
}

function drawAttention(slot: Slot): void {
  const target = part(slot, 'attention');
  const layer = slot.card.querySelector('select.layer') as HTMLSelectElement;
  const head = slot.card.querySelector('select.head') as HTMLSelectElement;
  const r = slot.run;
  if (!r) { target.replaceChildren(); return; }
  if (r.settings.model !== 'transformer') {
    const why: Record<string, string> = {
      fc: 'An FC model reads each position alone: no position looks at another, so there is no α′.',
      'window-fc': 'A window model reads a fixed ±1 neighbourhood with fixed weights: no α′.',
      cnn: 'A CNN mixes a fixed neighbourhood with learned filters, the same for every input: no α′.',
      rnn: 'An RNN carries a hidden state from word to word: no α′.',
    };
    target.replaceChildren(el('p', { class: 'muted' }, why[r.settings.model] ?? 'This model has no attention.'));
    return;
  }
  const fill = (s: HTMLSelectElement, n: number, name: string) => {
    if (s.options.length === n) return;
    const keep = Math.min(Number(s.value) || 0, n - 1);
    s.replaceChildren(...Array.from({ length: n }, (_, i) => el('option', { value: String(i) }, `${name} ${i + 1}`)));
    s.value = String(keep);
  };
  fill(layer, r.settings.layers, 'layer');
  fill(head, r.settings.heads, 'head');
  if (!slot.attention) { target.replaceChildren(el('p', { class: 'muted' }, 'α′ appears here (fix the probe above if it says why not).')); return; }
  const which = slot.card.querySelector('select.part') as HTMLSelectElement;
  (which.parentElement as HTMLElement).hidden = !slot.attention.cross;
  const shown = slot.attention.cross && which.value === 'cross' ? slot.attention.cross : slot.attention;
  (slot.card.querySelector('.explain') as HTMLElement).textContent = shown === slot.attention.cross ? EXPLAIN_CROSS : EXPLAIN;
  drawAlpha(target, shown, Number(layer.value), Number(head.value));
}

function renderAll(): void {
  for (const slot of Object.values(slots)) renderNumbers(slot);
  drawLoss(chart, Object.values(slots).map((s) => ({ name: s.side, color: COLORS[s.side], points: s.run?.losses ?? [] })));
}

// --- models, probe, training

const rebuild = (which: Slot[]) => busy(() => rebuildNow(which));

async function rebuildNow(which: Slot[]): Promise<void> {
  if (running) stopAsked = true;
  while (running) await pause();
  for (const slot of which) {
    slot.run?.dispose();
    slot.run = null;
    slot.attention = null;
    slot.error = '';
    try {
      slot.run = PlayRun.create(task, slot.settings, examples, SEED);
    } catch (e) {
      slot.error = `Model ${slot.side}: ${(e as Error).message}`;
    }
  }
  await look(which);
  renderAll();
}

/** Accuracy and α′ of the probe for each slot; a bad probe is one message, the models go on. */
async function look(which: Slot[]): Promise<void> {
  say('');
  for (const slot of which) {
    const r = slot.run;
    if (!r) { drawAttention(slot); continue; }
    try {
      await r.evaluate();
      const probe = r.probeInput(probeInput.value);
      slot.attention = await r.attention(probe);
      r.record(slot.attention);
    } catch (e) {
      slot.attention = null;
      if (e instanceof ProbeError) say(`Probe: ${e.message}`);
      else slot.error = `Model ${slot.side}: ${(e as Error).message}`;
    }
    drawAttention(slot);
  }
}

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const train = () => busy(trainNow);

async function trainNow(): Promise<void> {
  if (running) return;
  const steps = stepsInput.valueAsNumber;
  if (!Number.isInteger(steps) || steps < 1 || steps > 100000) { say('Steps must be a whole number from 1 to 100000.'); return; }
  const active = Object.values(slots).filter((s) => s.run && !s.error);
  if (!active.length) { say('No model to train: fix the settings the red lines name.'); return; }
  running = true;
  stopAsked = false;
  trainButton.disabled = true;
  stopButton.disabled = false;
  say('');
  const t0 = performance.now();
  try {
    for (let done = 0; done < steps && !stopAsked;) {
      const chunk = performance.now();
      while (done < steps && !stopAsked && performance.now() - chunk < CHUNK_MS) {
        for (const slot of active) {
          if (slot.error) continue;
          try {
            await slot.run!.trainStep();
          } catch (e) {
            slot.error = `Model ${slot.side}: ${(e as Error).message}`;
          }
        }
        done++;
        if (done % EVAL_EVERY === 0 || done === steps) await look(active);
      }
      status.textContent = `training: ${done} / ${steps} steps (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
      renderAll();
      await pause(); // let the page draw and take clicks
      if (active.every((s) => s.error)) break;
    }
    await look(active);
    status.textContent = `trained ${active[0]!.run!.step} steps in all; the last ${steps} took ${((performance.now() - t0) / 1000).toFixed(1)} s on ${describeBackend()}`;
  } finally {
    running = false;
    trainButton.disabled = false;
    stopButton.disabled = true;
    renderAll();
  }
}

async function saveRun(slot: Slot): Promise<void> {
  const r = slot.run;
  if (!r) { say(`Model ${slot.side} has no run to save: fix its settings first.`); return; }
  try {
    const name = `qkv-playground-${task.name}-${slot.side}-${r.settings.model}`;
    const bytes = tarDirectory(name, await r.checkpointFiles());
    const a = el('a', { href: URL.createObjectURL(new Blob([bytes], { type: 'application/x-tar' })), download: `${name}.tar` });
    document.body.append(a);
    a.click();
    a.remove();
    status.textContent = `saved ${name}.tar (step ${r.step}): tar xf ${name}.tar && qkv viz --model ${name}`;
  } catch (e) {
    say(`Saving model ${slot.side}: ${(e as Error).message}`);
  }
}

async function main(): Promise<void> {
  app.append(el('p', { class: 'muted' }, 'Loading qkv ...'));
  const backendNote = await chooseBackend(new URLSearchParams(location.search).get('backend'));
  const address = readAddress(location.search);
  if (address.task) {
    task = playTask(address.task);
    examples = playData(task.name, SEED);
    probeInput.value = task.example;
    taskSelect.value = task.name;
  }
  if (address.probe !== undefined) probeInput.value = address.probe;
  if (address.steps !== undefined) stepsInput.value = address.steps;
  for (const slot of Object.values(slots)) Object.assign(slot.settings, address.models[slot.side]);
  buildCard(slots.A);
  buildCard(slots.B);
  const setupCard = el('section', { class: 'card setup' },
    el('div', { class: 'row' }, field('task', taskSelect), field('steps', stepsInput), el('div', { class: 'buttons' }, trainButton, stopButton, resetButton)),
    about,
    el('div', { class: 'row' }, el('label', { class: 'field wide' }, probeLabel, probeInput)),
    message, status);
  app.replaceChildren(
    el('header', {}, el('h1', {}, 'qkv playground'), el('p', { class: 'muted' }, 'Two models learn one of the lecture\'s tasks in this tab, with qkv\'s own tensors and kernels. Nothing leaves the page.'),
      el('p', { id: 'backend', class: 'backend' }, `Backend: ${describeBackend()}. ${backendNote}`)),
    setupCard,
    el('section', { class: 'card curves' }, el('h2', {}, 'Training loss'),
      el('p', { class: 'legend' }, el('span', { class: 'swatch', style: `background:${COLORS.A}` }), 'Model A ', el('span', { class: 'swatch', style: `background:${COLORS.B}` }), 'Model B'), chart),
    el('div', { class: 'models' }, slots.A.card, slots.B.card),
  );
  const showTask = () => {
    about.textContent = task.about;
    probeLabel.textContent = task.probe === 'example' ? 'probe: number of a held-out graph' : `probe ${task.task === 'seq2seq' ? 'letters' : 'sentence'}`;
  };
  showTask();
  taskSelect.addEventListener('change', () => void (async () => {
    task = playTask(taskSelect.value);
    examples = playData(task.name, SEED);
    probeInput.value = task.example;
    showTask();
    await rebuild([slots.A, slots.B]);
  })());
  const lookAgain = () => void busy(async () => { await look([slots.A, slots.B]); renderAll(); });
  probeInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') lookAgain(); });
  probeInput.addEventListener('change', lookAgain);
  trainButton.addEventListener('click', () => void train());
  stopButton.addEventListener('click', () => { stopAsked = true; });
  resetButton.addEventListener('click', () => void rebuild([slots.A, slots.B]));
  await rebuild([slots.A, slots.B]);
  if (address.problems.length) say(address.problems.join('; '));
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  app.replaceChildren(el('p', { class: 'error', role: 'alert' }, `The playground could not start: ${(e as Error).message}`));
  document.body.dataset.ready = 'failed';
});
