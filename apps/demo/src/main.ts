// The demo's entry: start the best backend and say which one we got, load
// the built-in models (@tx/blocks' coref encoder, GPT and encoder-decoder,
// stored as `tx export` folders), and wire the six views. The attention view
// opens on the explainer's sentence with the coref encoder; the GPT drives
// the positional and generate views.
//
// URL parameters (for tests and links): ?backend=webgpu|wasm|webgl|cpu,
// ?view=attention|arithmetic|positional|train|generate|encdec,
// ?iters=N (default training iterations), ?model=URL (a `tx export` or
// Hugging Face GPT-2 folder), ?memory=200MB (the most a loaded model may
// need, to try a smaller machine), ?hub=URL (a mirror of the Hugging Face
// Hub's `resolve/main/` layout for the GPT-2 entry).
//
// A model the reader brings (file picker or URL) is checked against what the
// backend can hold before its weights are read; if it cannot be held, or
// fails to load, the page says so in one line and keeps the model it had.
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { GPT } from '@tx/blocks';
import { initBackend, kernelsInfo, tf, useKernels } from '@tx/core';
import { AdamW, COREF_GRAMMAR, languageModelLoss, trainStep } from '@tx/train';
import { backendChoice, backendLabel } from './backend-label.js';
import { h } from './dom.js';
import { parseInspect, type InspectData } from './lib/data.js';
import { decoderNeed, parseBytes, refusal } from './lib/memory.js';
import type { Progress } from './lib/progress.js';
import { backendBudget } from './model/budget.js';
import type { LoadedDecoder, LoadedEncoder, LoadedModel } from './model/checkpoint.js';
import { WINOGRAD, swapWord } from './lib/honesty.js';
import { HUB, HUB_MODELS, hubFolderUrl } from './lib/hub.js';
import { inspectEncoder, Unreadable } from './model/coref.js';
import { loadFolder, pickedFolder, urlFolder, type Folder } from './model/folder.js';
import { MAX_TOKENS, encodeKnown, inspect, unknownChars } from './model/run.js';
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
// For the browser console (and the end-to-end tests): the page's tfjs and the @tx pieces it runs on.
(globalThis as { tx?: unknown }).tx = { tf, initBackend, useKernels, kernelsInfo, GPT, AdamW, trainStep, languageModelLoss };

const status = document.querySelector<HTMLParagraphElement>('#backend')!;
const app = document.querySelector<HTMLElement>('#app')!;
const message = h('p#message.message', { role: 'status' });

/** The layer of a GPT's attention the page reads (the views ask for another with onLayer). */
let layerShown = 0;
const readLayer = (layer: number) => { layerShown = layer; void runText(); };
const attention = new AttentionView({
  onLayer: readLayer,
  // "Every number" under the formula: the arithmetic view, at the same word, layer and head.
  onArithmetic: (token, layer, head) => { arithmetic.focusOn(token, layer, head); show('arithmetic', { focus: true }); },
});
const arithmetic = new ArithmeticView({ onLayer: readLayer });
const positional = new PositionalView();
const generateView = new GenerateView();
const encdec = new EncDecView();
let current: LoadedDecoder | null = null;
/** The model of the attention and arithmetic views: the coref encoder by default, or a GPT or Llama. */
let attentionModel: LoadedDecoder | LoadedEncoder | null = null;
let attentionModelChanged = false;
const models = new Map<string, LoadedModel>();
/** Set once the user picks a model (menu, files, URL, training): a built-in that arrives later is only listed, it replaces no pick. */
let picked = false;

async function names(): Promise<string> {
  return (await import('./data/names.js')).namesCorpus();
}
const train = new TrainView({ names, onUse: (m) => { models.set(m.name, m); pick(m); }, iters: params.has('iters') ? Number(params.get('iters')) : undefined });

const text = h('textarea#attention-text', { rows: 2 }, DEFAULT_SENTENCE);
const textLabel = h('label', { htmlFor: 'attention-text', class: 'text-label' }, 'The sentence the model reads');

/**
 * What the coref model can read, one click away: example sentences (the
 * Winograd pair among them, which it fails), and chips of the words it knows
 * by their role in its one sentence pattern. A chip puts its word where the
 * word of the same role stands, so the sentence stays one the model can read.
 */
function corefHelp(): HTMLElement {
  const G = COREF_GRAMMAR;
  const put = (value: string) => { text.value = value; void runText(); };
  const example = (label: string, value: string) => h('button.chip.example', { type: 'button', onclick: () => put(value), dataset: { example: label } }, label);
  const roles: Array<[string, readonly string[], readonly string[]]> = [
    ['who', G.subject, G.subject],
    ['where', G.object, G.object],
    ['too… (the animal)', G.subjectAdjective, [...G.subjectAdjective, ...G.objectAdjective]],
    ['too… (the place)', G.objectAdjective, [...G.subjectAdjective, ...G.objectAdjective]],
  ];
  return h('div#coref-help.help', {},
    h('p.note', {}, 'This model knows 78 words and one sentence pattern: “the X didn’t cross the Y because it was too Z”. Words it never saw keep their text, marked unknown; it reads them all as one blank.'),
    h('div.chips', { role: 'group', 'aria-label': 'example sentences' }, 'Try: ',
      example('the explainer’s', DEFAULT_SENTENCE),
      example('too wide', DEFAULT_SENTENCE.replace('tired', 'wide')),
      example('Winograd: too big', WINOGRAD.big),
      example('Winograd: too small', WINOGRAD.small)),
    ...roles.map(([label, words, role]) => h('div.chips', { role: 'group', 'aria-label': `words it knows: ${label}` }, h('span.chips-label', {}, `${label}: `),
      ...words.map((w) => h('button.chip', { type: 'button', onclick: () => put(swapWord(text.value, role, w)) }, w)))));
}
const help = corefHelp();
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
const modelSelect = h('select#model-select', { 'aria-label': 'model', onchange: () => { const m = models.get(modelSelect.value); if (m) pick(m); } });
const urlInput = h('input#model-url', { type: 'url', placeholder: 'URL of a tx export, or a Hugging Face GPT-2 or Llama-family folder', size: 36 });
const picker = h('input#model-files', { type: 'file', multiple: true, accept: '.json,.safetensors,.txt' });
const progressBar = h('progress#load-progress', { max: 1 });
const progressText = h('span#load-progress-text');
const loading = h('span.loading', { hidden: true }, progressBar, progressText);
const inspectPicker = h('input#inspect-file', { type: 'file', accept: '.json' });

/**
 * The real thing, one click away: GPT-2 small from the Hub (?hub= points at a
 * mirror). The first click says what it downloads; the second loads it, with
 * the progress bar, refused in one line if the backend cannot hold it.
 */
const hubButtons = HUB_MODELS.map((hm) => {
  const id = hm.repo.split('/').at(-1)!.replace(/[^a-z0-9]+/gi, '-');
  const warning = h('span.hub-warning', { id: `hub-${id}-warning`, hidden: true }, `Downloads ${hm.size} into this tab. `);
  const button = h('button', { type: 'button', id: `hub-${id}`, dataset: { repo: hm.repo } }, hm.label);
  button.addEventListener('click', () => {
    if (warning.hidden) {
      warning.hidden = false;
      button.textContent = `Download ${hm.repo}`;
      return;
    }
    warning.hidden = true;
    button.textContent = hm.label;
    void loadUser(urlFolder(hubFolderUrl(hm.repo, params.get('hub') ?? HUB)));
  });
  return h('span.hub', {}, button, warning);
});

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
  attention: h('section#view-attention', {}, h('h2', {}, 'Attention as light'), h('p.lead', {}, 'Who is “it”? Every word is a node that shines light on the words it attends to. Brightness is the attention weight; each head has its own colour, and where heads agree their colours add. The coref model reads the sentence in both directions, so “it” can look ahead to “tired”, and one of its heads shines on the word “it” refers to. Edit the sentence: the light follows.'), h('div.controls', {}, textLabel, text, runButton), help, attention.root),
  arithmetic: h('section#view-arithmetic', {}, h('h2', {}, "One token's arithmetic"), h('p.lead', {}, 'The real numbers behind one row of attention, from the loaded model and the sentence in the attention view.'), arithmetic.root),
  positional: h('section#view-positional', {}, h('h2', {}, 'Positional encoding'), h('p.lead', {}, 'Attention alone does not know the order of tokens. Three ways to tell it.'), positional.root),
  train: h('section#view-train', {}, h('h2', {}, 'Train here'), h('p.lead', {}, 'A small model learns in this page, on this device: a GPT on names or your text, the coref encoder on “who is it?”, an encoder-decoder on the dates task. Nothing blocks: the loop yields to the page after every step.'), train.root),
  generate: h('section#view-generate', {}, h('h2', {}, 'Generate'), generateView.root),
  encdec: h('section#view-encdec', {}, h('h2', {}, 'Encoder-decoder: dates'), h('p.lead', {}, 'The model rewrites a date written the human way as ISO 8601; the matrix shows which input characters each output character looked at.'), encdec.root),
};
// Each view names the model it runs (the coref encoder is not the model of the generate view).
const modelLines = Object.fromEntries(VIEWS.map(([id]) => [id, h('p.model-line', { id: `model-line-${id}` })])) as unknown as Record<ViewName, HTMLElement>;
for (const [id] of VIEWS) sections[id].querySelector('h2')!.after(modelLines[id]);
let datesModel: LoadedModel | null = null;
function nameModels(): void {
  const name = (m: LoadedModel | null, what: string) => (m ? `${what}: ${m.name}` : `${what}: none loaded`);
  modelLines.attention.textContent = name(attentionModel, 'Model');
  modelLines.arithmetic.textContent = name(attentionModel, 'Model');
  modelLines.positional.textContent = current ? `The sinusoidal table is a formula (no model); the learned positions are ${current.name}'s.` : 'The sinusoidal table is a formula (no model).';
  modelLines.generate.textContent = name(current, 'Model');
  modelLines.encdec.textContent = name(datesModel, 'Model');
  modelLines.train.textContent = 'Model: the one you train here (pick its task below); it is new each run.';
}

// The tabs follow the ARIA pattern: one tab stop, arrow keys (and Home, End) move between tabs and show them.
const tabButtons = VIEWS.map(([id, label]) => h('button', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `view-${id}`, dataset: { view: id }, onclick: () => show(id) }, label));
const tabs = h('nav.tabs', { role: 'tablist', 'aria-label': 'views' }, ...tabButtons);
tabs.addEventListener('keydown', (e) => {
  const at = tabButtons.indexOf(document.activeElement as HTMLButtonElement);
  if (at < 0) return;
  const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabButtons.length - 1 }[e.key];
  if (next === undefined) return;
  e.preventDefault();
  const i = (next + tabButtons.length) % tabButtons.length;
  show(VIEWS[i][0], { focus: true });
});
for (const [id] of VIEWS) { sections[id].setAttribute('role', 'tabpanel'); sections[id].setAttribute('aria-labelledby', `tab-${id}`); }

app.append(
  h('div.toolbar', {},
    h('label', {}, 'Model ', modelSelect),
    h('label', {}, 'Load a model: ', urlInput, h('button#model-url-load', { type: 'button', onclick: () => void loadUser(urlFolder(urlInput.value)) }, 'Load')),
    h('label', {}, 'or its files ', picker),
    h('label', {}, '· `tx inspect` JSON ', inspectPicker),
    ...hubButtons,
    loading),
  message, tabs, ...Object.values(sections));

async function showPositional(): Promise<void> {
  // A Llama has no position table (RoPE rotates q and k): the rotary section stands for it.
  const wpe = current?.kind === 'gpt' ? ((await current.model.wpe.weight.array()) as number[][]) : null;
  positional.set(wpe, current?.model.config.nEmbd ?? 64, current?.model.config.blockSize ?? 64);
}

function show(view: ViewName, { focus = false }: { focus?: boolean } = {}): void {
  for (const [id, el] of Object.entries(sections)) el.hidden = id !== view;
  for (const b of tabButtons) {
    b.setAttribute('aria-selected', String(b.dataset.view === view));
    b.tabIndex = b.dataset.view === view ? 0 : -1;
    if (focus && b.dataset.view === view) b.focus();
  }
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

/** The page's one line of news: a message on several lines (a stack of causes) is joined into one. */
function say(text: string, error = false): void {
  message.textContent = text.replace(/\s*\n\s*/g, '; ');
  message.classList.toggle('error', error);
}

/**
 * A GPT drives views 1, 2, 3 and 5; the coref encoder drives views 1 and 2;
 * an encoder-decoder drives view 6. `attention: false` loads a GPT for views
 * 3 and 5 only, leaving the attention view's model as it is.
 */
function use(m: LoadedModel, switchView = false, { attention: forAttention = true }: { attention?: boolean } = {}): void {
  list(m);
  if ((forAttention && m.kind !== 'encoder-decoder') || switchView) modelSelect.value = m.name;
  if (m.kind === 'encoder') {
    attentionModel = m;
    attentionModelChanged = true;
    nameModels();
    if (switchView) show('attention');
    void runText();
    return;
  }
  if (m.kind === 'encoder-decoder') {
    encdec.setModel(m);
    datesModel = m;
    nameModels();
    if (switchView) say(`${m.name} is an encoder-decoder: it drives the Encoder-decoder view (the other views keep ${attentionModel?.name ?? 'no model'}).`);
    if (switchView) show('encdec');
    return;
  }
  current = m;
  generateView.setModel(m);
  nameModels();
  if (document.body.dataset.view === 'positional') void showPositional();
  if (!forAttention) return;
  attentionModel = m;
  attentionModelChanged = true;
  nameModels();
  layerShown = 0;
  void runText();
}

/** Add a model to the model menu (once), leaving every view's model as it is. */
function list(m: LoadedModel): void {
  if (![...modelSelect.options].some((o) => o.value === m.name)) modelSelect.append(h('option', { value: m.name }, `${m.name} (${m.kind})`));
}

/** The user's choice: it drives its views, and no built-in still loading may take them back. */
function pick(m: LoadedModel): void {
  picked = true;
  use(m, true);
}

/**
 * A built-in model as it arrives: used as `use` would, unless the user has
 * already picked a model; then it is only listed (an encoder-decoder still
 * fills the encoder-decoder view when that view has no model yet).
 */
function arrive(m: LoadedModel, switchView = false, options: { attention?: boolean } = {}): void {
  if (!picked || (m.kind === 'encoder-decoder' && !datesModel)) use(m, switchView && !picked, options);
  else list(m);
}

let running: Promise<void> | null = null;
let again = false;
/** The model, text and layer of the run in flight (or the last one): asking again for the same picture does nothing. */
let shown: { model: unknown; text: string; layer: number } | null = null;

/**
 * Inspect the text with the attention view's model; while a run is in flight,
 * run once more after it with the latest text. The same model and text again
 * is a no-op unless forced (the button).
 */
async function runText({ force = false }: { force?: boolean } = {}): Promise<void> {
  clearTimeout(typing);
  const same = () => shown !== null && shown.model === attentionModel && shown.text === text.value && shown.layer === layerShown && !attentionModelChanged;
  if (running) {
    if (!same()) again = true;
    return running;
  }
  if (same() && !force) return;
  running = (async () => {
    do {
      again = false;
      shown = { model: attentionModel, text: text.value, layer: layerShown };
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
      help.hidden = false;
      const r = await inspectEncoder(m.model, m.tokenizer, text.value);
      attention.set(r, { newModel });
      arithmetic.set(r);
      say(r.unknown.length ? `Words ${m.name} has never seen (it reads each as one blank, <unk>): ${r.unknown.join(', ')}.` : '');
    } else {
      help.hidden = true;
      const unknown = unknownChars(m.tokenizer, text.value);
      const r = await inspect(m.model, m.tokenizer, text.value, { layer: Math.min(layerShown, m.model.config.nLayer - 1) });
      attention.set(r, { newModel });
      arithmetic.set(r);
      say(unknown.length ? `Characters the model has never seen were left out: ${unknown.join(' ')}` : `Model: ${m.name}.`);
    }
    document.body.dataset.ready = 'true';
  } catch (err) {
    shown = null; // asking again retries
    // Nothing may answer for a text the model did not read: the old picture and answer are greyed and cleared.
    attention.unreadable((err as Error).message);
    arithmetic.unreadable((err as Error).message);
    say(`Could not run the model: ${(err as Error).message}`, true);
  }
}

function showInspect(data: InspectData): void {
  attention.set(data);
  if (data.cross) encdec.setCross(data);
  say(`Showing the loaded \`tx inspect\` output: ${data.tokens.length} tokens.`);
}

/** A built-in model, or ?model=, by URL. */
async function loadUrl(url: string, name?: string): Promise<LoadedModel | null> {
  try {
    const m = await loadFolder(urlFolder(url), { name });
    m.name = uniqueName(m.name);
    models.set(m.name, m);
    return m;
  } catch (err) {
    say(`Could not load ${url}: ${(err as Error).message}`, true);
    return null;
  }
}

/**
 * A model the reader brings. It is refused before its weights are read if
 * the backend cannot hold it beside the models loaded (lib/memory.ts); any
 * failure is one line, and the page keeps the model it had.
 */
async function loadUser(folder: Folder): Promise<void> {
  const cap = params.has('memory') ? parseBytes(params.get('memory')!) : null;
  const held = () => [...models.values()].reduce((sum, m) => sum + 4 * m.model.numParameters(), 0);
  const keeping = () => (attentionModel ? ` Still showing ${attentionModel.name}.` : '');
  loading.hidden = false;
  loading.dataset.state = 'loading';
  try {
    const m = await loadFolder(folder, {
      onProgress: showProgress,
      check: (spec) => {
        const why = refusal(decoderNeed(spec, MAX_TOKENS), backendBudget(cap), held());
        if (why) throw new CannotHold(why);
      },
    });
    m.name = uniqueName(m.name);
    models.set(m.name, m);
    loading.dataset.state = 'done';
    pick(m);
  } catch (err) {
    loading.dataset.state = 'failed';
    const subject = folder.listed ? 'the picked model' : `the model at ${folder.where}`;
    const what = err instanceof CannotHold ? `This backend cannot hold ${subject}: ${err.message}.` : `Not loaded: ${(err as Error).message.replace(/\.$/, '')}.`;
    say(`${what}${keeping()}`, true);
  }
}

class CannotHold extends Error {}

function showProgress(p: Progress): void {
  const f = p.fraction();
  if (f === null) progressBar.removeAttribute('value');
  else progressBar.value = f;
  progressBar.dataset.loaded = String(p.loaded);
  progressBar.dataset.total = String(p.total ?? '');
  progressText.textContent = p.label();
}

/** A name not yet in the model menu: "gpt2", then "gpt2 (2)". */
function uniqueName(name: string): string {
  let unique = name;
  for (let i = 2; models.has(unique); i++) unique = `${name} (${i})`;
  return unique;
}

// The sentence picture fits its width (a phone's 390 px too): drawn again when the window changes size.
let resizing = 0;
window.addEventListener('resize', () => { cancelAnimationFrame(resizing); resizing = requestAnimationFrame(() => attention.draw()); });

picker.addEventListener('change', () => {
  const files = [...(picker.files ?? [])];
  picker.value = ''; // picking the same files again loads them again
  void loadUser(pickedFolder(files));
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
  const { prefer, allowSoftwareWebGPU } = backendChoice(params);
  try {
    // tfjs's WebGPU and WebGL backends are optional in @tx/core: a page registers
    // the ones it may use by importing them (here as chunks loaded on demand).
    if (prefer === 'auto' || prefer === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
    if (prefer === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
    // A cross-origin-isolated page (vite.config.ts sends the headers) may share memory with workers: @tx's wasm kernels then
    // split large products between threads. tfjs-wasm's own threaded build would load there too, but its pthread workers
    // cannot find its code inside a bundle (tfjs issue 4107: "ReferenceError: e is not defined"), so it keeps its
    // single-threaded build and @tx's pool works beside it.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const threads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    const info = await initBackend({ prefer, allowSoftwareWebGPU, threads });
    status.textContent = backendLabel(info);
    status.dataset.backend = info.backend;
    document.body.dataset.backend = info.backend;
  } catch (err) {
    status.textContent = `No backend could start: ${(err as Error).message}`;
    return;
  }
  nameModels();
  show((params.get('view') as ViewName) ?? 'attention');
  const explicit = params.get('model');
  // The attention view opens on the explainer's sentence with the coref encoder, unless ?model= names another.
  const coref = explicit ? null : await loadUrl(`${base}models/coref/`, 'built-in: coref');
  if (coref) arrive(coref);
  const dates = await loadUrl(`${base}models/dates/`, 'built-in: dates');
  if (dates) arrive(dates);
  const main = explicit ? await loadUrl(explicit) : await loadUrl(`${base}models/shakespeare/`, 'built-in: shakespeare');
  if (main) arrive(main, main.kind === 'encoder-decoder', { attention: !coref });
  document.body.dataset.models = 'loaded';
}

void start();
