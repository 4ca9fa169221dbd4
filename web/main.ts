// The visualizer page: reads the model's inspection (from the `qkv viz` server, or embedded in
// an exported file) and draws the lecture view, the matrix form and the model views.
import type { ModelInfo, ModelInspection, WatchRecord } from '../src/browser.js';
import { generationView } from './generation.js';
import { informativeSelection, lectureView, matrixView, shown, type Selection } from './lecture.js';
import { framesView, imageView } from './media-view.js';
import { graphView, gridView, headView } from './model-view.js';
import { trainingView } from './training.js';
import { h } from './util.js';

interface Embedded { model: ModelInfo; inspections: { input: string; result: ModelInspection }[]; training?: WatchRecord[] }

const POSITIONS: Record<string, string> = { rope: 'rotary positions (RoPE)', sinusoidal: 'sinusoidal positions', learned: 'learned positions', none: 'no positional encoding' };

const app = document.getElementById('app')!;
const state: { r: ModelInspection | null; sel: Selection; part: number } = { r: null, sel: { layer: 0, head: 0, query: 0 }, part: 0 };

/** The attention on show: the model's own (an encoder's, a GPT prompt's), or a seq2seq model's decoder or cross-attention. */
function current(r: ModelInspection): ModelInspection {
  const p = state.part > 0 ? r.parts?.[state.part - 1] : undefined;
  if (!p) return r;
  return { ...r, tokens: p.tokens, keys: p.keys, blocked: p.blocked, layers: p.layers, unknown: p.tokens.map(() => false) };
}

/** An error replaces the result it came after (a stale result under a new error reads as the answer); a result clears the error. */
function showError(message: string): void {
  const box = document.getElementById('error')!;
  box.textContent = message;
  box.hidden = !message;
  if (message) {
    state.r = null;
    render();
    document.body.dataset.ready = 'true';
  }
}

function render(): void {
  const out = document.getElementById('views');
  const full = state.r;
  if (!out) return;
  if (!full) return void out.replaceChildren();
  const r = current(full);
  const sel = { ...state.sel, query: Math.min(state.sel.query, r.tokens.length - 1) };
  const pickQuery = (i: number) => { state.sel = { ...state.sel, query: i }; render(); };
  const pick = (layer: number, head: number) => { state.sel = { ...state.sel, layer, head }; render(); };
  const select = (label: string, n: number, value: number, set: (v: number) => void, id: string) => {
    const el = h('select', { id }, ...Array.from({ length: n }, (_, k) => h('option', { value: k, selected: k === value }, `${label} ${k + 1}`)));
    el.addEventListener('change', () => set(Number(el.value)));
    return el;
  };
  const prediction = full.task === 'lm'
    ? h('div', { class: 'prediction' }, 'the model continues: ', h('span', { class: 'gen-text' }, h('span', { class: 'prompt' }, shown(full.tokens.join(''))), h('b', { id: 'generated' }, full.prediction as string)))
    : Array.isArray(r.prediction)
    ? h('div', { class: 'prediction' }, ...r.tokens.map((t, i) => h('span', { class: 'tagged' }, h('b', {}, r.unknown[i] ? `<unk> ${t}` : t), h('small', {}, r.prediction[i]!))))
    : h('div', { class: 'prediction' }, 'the model says: ', h('b', {}, r.prediction));
  const parts = full.parts ? [`encoder self-attention (${full.tokens.length} × ${full.tokens.length})`, ...full.parts.map((p) => `${p.name} (${p.tokens.length} × ${(p.keys ?? p.tokens).length})`)] : null;
  const partPick = parts ? h('select', { id: 'part' }, ...parts.map((name, k) => h('option', { value: k, selected: k === state.part }, name))) : '';
  if (partPick) partPick.addEventListener('change', () => { state.part = Number(partPick.value); state.sel = { ...state.sel, query: 0 }; render(); });
  const controls = h('div', { class: 'controls' },
    partPick,
    select('layer', r.layers.length, sel.layer, (v) => pick(v, sel.head), 'layer'),
    select('head', r.model.heads, sel.head, (v) => pick(sel.layer, v), 'head'),
    h('span', { class: 'muted' }, `${r.model.attention} attention · ${POSITIONS[r.model.pos] ?? r.model.pos}${r.model.window !== null ? ` · window ${r.model.window}` : ''} · ${r.tokens.length} positions`));
  out.replaceChildren(prediction, controls,
    imageView(r, sel, pickQuery) ?? '',
    framesView(r, sel, pickQuery) ?? '',
    lectureView(r, sel, pickQuery),
    matrixView(r, sel, pickQuery),
    generationView(r, sel) ?? '',
    gridView(r, sel, pick, out.clientWidth - 38), // the section's inner width: 2 × 18 px padding, 2 × 1 px border
    h('div', { class: 'side' }, headView(r, sel, pickQuery), graphView(r, sel, pickQuery) ?? ''));
  document.body.dataset.ready = 'true';
}

/** A new result opens on its most informative query (see informativeSelection), not query 1 of layer 1. */
function show(r: ModelInspection): void {
  state.r = r;
  state.part = 0;
  state.sel = informativeSelection(r);
  showError('');
  render();
}

// the layer × head grid is sized to the window: redraw when it changes
let resizing = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = window.setTimeout(() => { if (state.r) render(); }, 150);
});

function header(m: ModelInfo, input: HTMLElement, training: WatchRecord[]): void {
  app.replaceChildren(
    h('header', {}, h('h1', {}, 'qkv ', h('span', {}, 'see attention')),
      h('p', { class: 'model-line' }, `${m.name}: a ${m.task} model, ${m.kind} with ${m.attention} attention, ${m.layers} layers × ${m.heads} heads, d = ${m.dModel}`)),
    input,
    h('div', { id: 'error', class: 'error', role: 'alert', hidden: true }),
    h('main', { id: 'views' }),
    trainingView(training) ?? '');
}

/** Served by `qkv viz`: type an input, the server runs the model. */
async function live(): Promise<void> {
  const res = await fetch('api/model');
  const body = await res.json() as { model?: ModelInfo; defaultInput?: string; training?: WatchRecord[]; newTokens?: number | null; error?: string };
  if (!body.model) {
    app.replaceChildren(h('header', {}, h('h1', {}, 'qkv ', h('span', {}, 'see attention'))), h('div', { id: 'error', class: 'error', role: 'alert' }, body.error ?? `the server answered ${res.status}`));
    return;
  }
  if (body.model.media) return liveMedia(body.model, body.training ?? []);
  const field = h('input', { id: 'input', type: 'text', value: body.defaultInput ?? '', spellcheck: false,
    placeholder: body.model.task === 'lm' ? 'type a prompt' : body.model.input === 'words' ? 'type a sentence' : '{"frames": [[...], ...]} or {"nodes": [[...]], "edges": [[0, 1]]} (edges join node numbers counted from 0)' });
  // a submit button: Enter in any field of the form submits it
  const go = h('button', { id: 'go', type: 'submit' }, 'Look');
  // a language model: how many tokens to generate step by step
  const tokens = body.model.task === 'lm' ? h('input', { id: 'tokens', type: 'number', min: 1, max: 512, value: body.newTokens ?? 8, title: 'new tokens to generate' }) : null;
  const form = h('form', { class: 'input' }, field, tokens ? h('label', { class: 'muted' }, 'new tokens ', tokens) : '', go);
  header(body.model, form, body.training ?? []);
  const run = () => answer(fetch(`api/inspect?input=${encodeURIComponent(field.value)}${tokens ? `&tokens=${encodeURIComponent(tokens.value)}` : ''}`));
  form.addEventListener('submit', (e) => { e.preventDefault(); void run(); });
  if (field.value) await run();
  else document.body.dataset.ready = 'true';
}

/** The server's answer to one inspection: the result shown, or its error (either replaces the other). */
async function answer(request: Promise<Response>): Promise<void> {
  document.body.dataset.ready = 'false';
  try {
    const r = await request;
    const b = await r.json() as { result?: ModelInspection; error?: string };
    if (b.result) show(b.result);
    else showError(b.error ?? `the server answered ${r.status}`);
  } catch (e) {
    showError(`cannot reach the qkv viz server: ${(e as Error).message}`);
  }
}

/** A model that reads files (WAV, PNG/JPEG): pick one, or open the built-in example (or the file given with --input). */
async function liveMedia(model: ModelInfo, training: WatchRecord[]): Promise<void> {
  const audio = model.media === 'audio';
  const file = h('input', { id: 'file', type: 'file', accept: audio ? '.wav,audio/wav,audio/x-wav' : '.png,.jpg,.jpeg,image/png,image/jpeg' });
  const example = model.example ? h('button', { id: 'example', type: 'button' }, `open ${model.example}`) : null;
  const form = h('form', { class: 'input' }, h('label', { class: 'muted' }, audio ? 'a WAV file: ' : 'a PNG or JPEG image: ', file), example ?? '');
  header(model, form, training);
  const send = async (f: File) => answer(fetch(`api/inspect-file?name=${encodeURIComponent(f.name)}`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: await f.arrayBuffer() }));
  file.addEventListener('change', () => { if (file.files?.[0]) void send(file.files[0]); });
  form.addEventListener('submit', (e) => { e.preventDefault(); if (file.files?.[0]) void send(file.files[0]); });
  if (example) {
    example.addEventListener('click', () => void answer(fetch('api/example')));
    await answer(fetch('api/example'));
  } else document.body.dataset.ready = 'true';
}

/** An exported page: the inputs and their inspections are in the file. */
function offline(data: Embedded): void {
  const pickInput = h('select', { id: 'input' }, ...data.inspections.map((x, k) => h('option', { value: k }, x.input.length > 80 ? `${x.input.slice(0, 80)}…` : x.input)));
  pickInput.addEventListener('change', () => show(data.inspections[Number(pickInput.value)]!.result));
  header(data.model, h('div', { class: 'input' }, h('span', { class: 'muted' }, 'input: '), pickInput), data.training ?? []);
  show(data.inspections[0]!.result);
}

const embedded = document.getElementById('qkv-data');
if (embedded) offline(JSON.parse(embedded.textContent!) as Embedded);
else live().catch((e: unknown) => showError(`cannot reach the qkv viz server: ${(e as Error).message}`));
