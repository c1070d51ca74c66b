// The demo's entry: start the best backend and say which one we got, load
// the built-in models (@tx/blocks' coref encoder, GPT and encoder-decoder,
// stored as `tx export` folders), and wire the six views. The attention view
// opens on the explainer's sentence with the coref encoder; the GPT drives
// the positional and generate views.
//
// URL parameters (for tests and links): ?backend=webgpu|wasm|webgl|cpu,
// ?view=attention|arithmetic|positional|train|generate|encdec,
// ?iters=N (default training iterations), ?model=URL (a `tx export` folder).
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { initBackend, tf, type BackendPreference } from '@tx/core';
import { backendLabel } from './backend-label.js';
import { h } from './dom.js';
import { parseInspect, type InspectData } from './lib/data.js';
import { fromPicked, fromUrl, type LoadedEncoder, type LoadedGPT, type LoadedModel } from './model/checkpoint.js';
import { inspectEncoder } from './model/coref.js';
import { encodeKnown, inspect, unknownChars } from './model/run.js';
import { ArithmeticView } from './views/arithmetic.js';
import { AttentionView } from './views/attention.js';
import { EncDecView } from './views/encdec.js';
import { GenerateView } from './views/generate.js';
import { PositionalView } from './views/positional.js';
import { TrainView } from './views/train.js';
import './style.css';

export const DEFAULT_SENTENCE = "The animal didn't cross the street because it was too tired.";
const params = new URLSearchParams(location.search);
const base = import.meta.env.BASE_URL;

// tfjs-backend-wasm fetches its .wasm binaries at run time: Vite emits them as assets and we say where.
setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
(globalThis as { tx?: unknown }).tx = { tf };

const status = document.querySelector<HTMLParagraphElement>('#backend')!;
const app = document.querySelector<HTMLElement>('#app')!;
const message = h('p#message.message', { role: 'status' });

const attention = new AttentionView();
const arithmetic = new ArithmeticView();
const positional = new PositionalView();
const generateView = new GenerateView();
const encdec = new EncDecView();
let current: LoadedGPT | null = null;
/** The model of the attention and arithmetic views: the coref encoder by default, or a GPT. */
let attentionModel: LoadedGPT | LoadedEncoder | null = null;
let attentionModelChanged = false;
const models = new Map<string, LoadedModel>();

async function names(): Promise<string> {
  return (await import('./data/names.js')).namesCorpus();
}
const train = new TrainView({ names, onUse: (m) => { models.set(m.name, m); use(m, true); }, iters: params.has('iters') ? Number(params.get('iters')) : undefined });

const text = h('textarea#attention-text', { rows: 2 }, DEFAULT_SENTENCE);
const runButton = h('button#attention-run', { type: 'button', onclick: () => void runText({ force: true }) }, 'Show attention');
// The picture follows the reader's typing: each change runs the model again (the latest text wins).
// Only while one forward pass reads the text: the coref encoder, or a GPT's text within its context;
// longer texts take a pass per window, so they wait for the button.
let typing = 0;
text.addEventListener('input', () => {
  clearTimeout(typing);
  const m = attentionModel;
  const onePass = m !== null && (m.kind === 'encoder' || encodeKnown(m.tokenizer, text.value).length <= m.model.config.blockSize);
  if (onePass) typing = window.setTimeout(() => void runText(), 150);
});
const modelSelect = h('select#model-select', { 'aria-label': 'model', onchange: () => { const m = models.get(modelSelect.value); if (m) use(m, true); } });
const urlInput = h('input#model-url', { type: 'url', placeholder: 'URL of a `tx export` folder', size: 28 });
const picker = h('input#model-files', { type: 'file', multiple: true, accept: '.json,.safetensors' });
const inspectPicker = h('input#inspect-file', { type: 'file', accept: '.json' });

const VIEWS = [
  ['attention', 'Attention as light'],
  ['arithmetic', "One token's arithmetic"],
  ['positional', 'Positional encoding'],
  ['train', 'Train here'],
  ['generate', 'Generate'],
  ['encdec', 'Encoder-decoder'],
] as const;
type ViewName = (typeof VIEWS)[number][0];
const sections: Record<ViewName, HTMLElement> = {
  attention: h('section#view-attention', {}, h('h2', {}, 'Attention as light'), h('p.lead', {}, 'Who is “it”? Every word is a node that shines light on the words it attends to. Brightness is the attention weight; each head has its own colour, and where heads agree their colours add. The coref model reads the sentence in both directions, so “it” can look ahead to “tired”, and one of its heads shines on the word “it” refers to. Edit the sentence: the light follows.'), h('div.controls', {}, text, runButton), attention.root),
  arithmetic: h('section#view-arithmetic', {}, h('h2', {}, "One token's arithmetic"), h('p.lead', {}, 'The real numbers behind one row of attention, from the loaded model and the sentence in the attention view.'), arithmetic.root),
  positional: h('section#view-positional', {}, h('h2', {}, 'Positional encoding'), h('p.lead', {}, 'Attention alone does not know the order of tokens. Three ways to tell it.'), positional.root),
  train: h('section#view-train', {}, h('h2', {}, 'Train here'), h('p.lead', {}, 'A small model learns in this page, on this device: a GPT on names or your text, the coref encoder on “who is it?”, an encoder-decoder on the dates task. Nothing blocks: the loop yields to the page after every step.'), train.root),
  generate: h('section#view-generate', {}, h('h2', {}, 'Generate'), generateView.root),
  encdec: h('section#view-encdec', {}, h('h2', {}, 'Encoder-decoder: dates'), h('p.lead', {}, 'The model rewrites a date written the human way as ISO 8601; the matrix shows which input characters each output character looked at.'), encdec.root),
};
const tabs = h('nav.tabs', { role: 'tablist' }, ...VIEWS.map(([id, label]) => h('button', { type: 'button', role: 'tab', dataset: { view: id }, onclick: () => show(id) }, label)));

app.append(
  h('div.toolbar', {},
    h('label', {}, 'Model ', modelSelect),
    h('label', {}, 'Load a checkpoint: ', urlInput, h('button#model-url-load', { type: 'button', onclick: () => void loadUrl(urlInput.value).then((m) => m && use(m, true)) }, 'Load')),
    h('label', {}, 'or files ', picker),
    h('label', {}, '· `tx inspect` JSON ', inspectPicker)),
  message, tabs, ...Object.values(sections));

async function showPositional(): Promise<void> {
  const wpe = current ? ((await current.model.wpe.weight.array()) as number[][]) : null;
  positional.set(wpe, current?.model.config.nEmbd ?? 64, current?.model.config.blockSize ?? 64);
}

function show(view: ViewName): void {
  for (const [id, el] of Object.entries(sections)) el.hidden = id !== view;
  for (const b of tabs.querySelectorAll<HTMLButtonElement>('button')) b.setAttribute('aria-selected', String(b.dataset.view === view));
  document.body.dataset.view = view;
  if (view === 'positional') void showPositional();
  if (view === 'attention') attention.draw();
  // Views show something on arrival: their default input runs once, the first time they are shown.
  generateView.setVisible(view === 'generate');
  encdec.setVisible(view === 'encdec');
  const url = new URL(location.href);
  url.searchParams.set('view', view);
  history.replaceState(null, '', url);
}

function say(text: string, error = false): void {
  message.textContent = text;
  message.classList.toggle('error', error);
}

/**
 * A GPT drives views 1, 2, 3 and 5; the coref encoder drives views 1 and 2;
 * an encoder-decoder drives view 6. `attention: false` loads a GPT for views
 * 3 and 5 only, leaving the attention view's model as it is.
 */
function use(m: LoadedModel, switchView = false, { attention: forAttention = true }: { attention?: boolean } = {}): void {
  if (![...modelSelect.options].some((o) => o.value === m.name)) modelSelect.append(h('option', { value: m.name }, `${m.name} (${m.kind})`));
  if ((forAttention && m.kind !== 'encoder-decoder') || switchView) modelSelect.value = m.name;
  if (m.kind === 'encoder') {
    attentionModel = m;
    attentionModelChanged = true;
    if (switchView) show('attention');
    void runText();
    return;
  }
  if (m.kind === 'encoder-decoder') {
    encdec.setModel(m);
    if (switchView) say(`${m.name} is an encoder-decoder: it drives the Encoder-decoder view (the other views keep ${attentionModel?.name ?? 'no model'}).`);
    if (switchView) show('encdec');
    return;
  }
  current = m;
  generateView.setModel(m);
  if (document.body.dataset.view === 'positional') void showPositional();
  if (!forAttention) return;
  attentionModel = m;
  attentionModelChanged = true;
  void runText();
}

let running: Promise<void> | null = null;
let again = false;
/** The model and text of the run in flight (or the last one): asking again for the same picture does nothing. */
let shown: { model: unknown; text: string } | null = null;

/**
 * Inspect the text with the attention view's model; while a run is in flight,
 * run once more after it with the latest text. The same model and text again
 * is a no-op unless forced (the button).
 */
async function runText({ force = false }: { force?: boolean } = {}): Promise<void> {
  clearTimeout(typing);
  const same = () => shown !== null && shown.model === attentionModel && shown.text === text.value && !attentionModelChanged;
  if (running) {
    if (!same()) again = true;
    return running;
  }
  if (same() && !force) return;
  running = (async () => {
    do {
      again = false;
      shown = { model: attentionModel, text: text.value };
      await inspectText();
    } while (again);
  })();
  try {
    await running;
  } finally {
    running = null;
  }
}

async function inspectText(): Promise<void> {
  const m = attentionModel;
  if (!m) return;
  const newModel = attentionModelChanged;
  attentionModelChanged = false;
  try {
    if (m.kind === 'encoder') {
      const r = await inspectEncoder(m.model, m.tokenizer, text.value);
      attention.set(r, { newModel });
      arithmetic.set(r);
      const answer = r.referent && r.pronoun !== undefined ? ` It says “${r.tokens[r.pronoun]}” is the ${r.referent.token} (${(100 * r.referent.p).toFixed(1)}%).` : ' There is no “it” in the text to resolve.';
      say(r.unknown.length ? `Words the model has never seen (read as <unk>): ${r.unknown.join(', ')}.${answer}` : `Model: ${m.name}.${answer}`);
    } else {
      const unknown = unknownChars(m.tokenizer, text.value);
      const r = await inspect(m.model, m.tokenizer, text.value);
      attention.set(r, { newModel });
      arithmetic.set(r);
      say(unknown.length ? `Characters the model has never seen were left out: ${unknown.join(' ')}` : `Model: ${m.name}.`);
    }
    document.body.dataset.ready = 'true';
  } catch (err) {
    shown = null; // asking again retries
    say(`Could not run the model: ${(err as Error).message}`, true);
  }
}

function showInspect(data: InspectData): void {
  attention.set(data);
  if (data.cross) encdec.setCross(data);
  say(`Showing the loaded \`tx inspect\` output: ${data.tokens.length} tokens.`);
}

async function loadUrl(url: string, name = url): Promise<LoadedModel | null> {
  try {
    const m = await fromUrl(name, url);
    models.set(m.name, m);
    return m;
  } catch (err) {
    say(`Could not load ${url}: ${(err as Error).message}`, true);
    return null;
  }
}

picker.addEventListener('change', async () => {
  try {
    const m = await fromPicked(picker.files ?? []);
    models.set(m.name, m);
    use(m, true);
  } catch (err) {
    say((err as Error).message, true);
  }
});
inspectPicker.addEventListener('change', async () => {
  const file = inspectPicker.files?.[0];
  if (!file) return;
  try {
    showInspect(parseInspect(await file.text()));
  } catch (err) {
    say(`${file.name}: ${(err as Error).message}`, true);
  }
});

async function start(): Promise<void> {
  const prefer = (params.get('backend') ?? 'auto') as BackendPreference;
  try {
    // tfjs's WebGPU and WebGL backends are optional in @tx/core: a page registers
    // the ones it may use by importing them (here as chunks loaded on demand).
    if (prefer === 'auto' || prefer === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
    if (prefer === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
    const info = await initBackend({ prefer, allowSoftwareWebGPU: true });
    status.textContent = backendLabel(info);
    status.dataset.backend = info.backend;
    document.body.dataset.backend = info.backend;
  } catch (err) {
    status.textContent = `No backend could start: ${(err as Error).message}`;
    return;
  }
  show((params.get('view') as ViewName) ?? 'attention');
  const explicit = params.get('model');
  // The attention view opens on the explainer's sentence with the coref encoder, unless ?model= names another.
  const coref = explicit ? null : await loadUrl(`${base}models/coref/`, 'built-in: coref');
  if (coref) use(coref);
  const dates = await loadUrl(`${base}models/dates/`, 'built-in: dates');
  if (dates) use(dates);
  const main = explicit ? await loadUrl(explicit) : await loadUrl(`${base}models/shakespeare/`, 'built-in: shakespeare');
  if (main) use(main, main.kind === 'encoder-decoder', { attention: !coref });
  document.body.dataset.models = 'loaded';
}

void start();
