// Commands that use a trained checkpoint: sample, eval, inspect.
import { readTextFile } from '../read.js';
import type { EncoderDecoderTransformer, GPT, Llama } from '@tx/blocks';
import { Rng, TxError, initBackend, tf, type BackendPreference } from '@tx/core';
import { beamSearch, streamTokens, type LanguageModel, type FinishReason, type GenerateTextOptions } from '@tx/generate';
import type { Tokenizer } from '@tx/tokenizer';
import { TokenDataset, crossEntropy, exactMatch, languageModelLoss, makeExamples, maxTargetLength, type Seq2SeqTask } from '@tx/train';
import { corpusText, encodeCorpus } from '../lm.js';
import { estimateMemory } from '@tx/blocks';
import { memoryBudget } from '../budget.js';
import { openCheckpoint, type OpenedCheckpoint } from '../model-io.js';
import { EVAL_FLAGS, INSPECT_FLAGS, SAMPLE_FLAGS } from '../flags.js';
import { parse, positive, required, threadsFlag, UsageError, type Io } from '../args.js';
import { checkField } from '../schema.js';
import { greedyDecode } from '../seq2seq-train.js';
import { corefEval, corefInspect } from './coref.js';
import { withinTokenizer } from '../tokenizer-rows.js';

async function open(values: Record<string, unknown>): Promise<OpenedCheckpoint> {
  const backend = (values.backend ?? 'auto') as string;
  if (!['auto', 'webgpu', 'wasm', 'cpu'].includes(backend)) throw new UsageError(`--backend must be auto, webgpu, wasm or cpu, got "${backend}"`);
  const dir = required(values, 'checkpoint');
  const info = await initBackend({ prefer: backend as BackendPreference, threads: threadsFlag(values) });
  const opened = await openCheckpoint(dir, memoryBudget(info.backend));
  opened.model.eval();
  return opened;
}

/** One sequence of ids as an int32 [1, T] tensor. */
const row = (ids: number[]) => tf.tensor2d([ids], [1, ids.length], 'int32');

const num = (values: Record<string, unknown>, flag: string, name: Parameters<typeof checkField>[0]) =>
  values[flag] === undefined ? undefined : (checkField(name, values[flag], `--${flag}`, { text: true }) as number);


// ---- tx sample ----------------------------------------------------------------

export async function sampleCommand(argv: string[], io: Io): Promise<void> {
  const { values } = parse(argv, SAMPLE_FLAGS);
  const contextOverflow = values['context-overflow'] ?? 'crop';
  if (contextOverflow !== 'crop' && contextOverflow !== 'restart') throw new UsageError(`--context-overflow must be crop or restart, got "${contextOverflow}"`);
  const topP = positive(values, 'top-p', false);
  if (topP !== undefined && topP > 1) throw new UsageError(`--top-p must be in (0, 1], got "${values['top-p']}"`);
  const options = {
    maxNewTokens: positive(values, 'max-new-tokens', true),
    temperature: positive(values, 'temperature', false),
    topK: positive(values, 'top-k', true),
    topP,
    greedy: values.greedy === true,
    seed: num(values, 'seed', 'seed'),
    contextOverflow: contextOverflow as 'crop' | 'restart',
  };
  const beams = positive(values, 'beams', true);
  const numSamples = positive(values, 'num-samples', true) ?? 1;
  // nanoGPT's --start=FILE:prompt.txt: the prompt is the file's text, as it is (a final newline included).
  if (values.prompt !== undefined && values.start !== undefined) throw new UsageError('give the prompt with --prompt or --start FILE, not both');
  const given = typeof values.start === 'string' ? await readTextFile(values.start, '--start') : (values.prompt as string | undefined);
  const json = values.json === true;
  const { config, model, tokenizer } = await open(values);
  if (config.model.kind === 'encoder') {
    model.dispose();
    throw new UsageError(`this is a ${config.task} model: it answers instead of generating; ask it with tx inspect --checkpoint ${values.checkpoint} --text TEXT`);
  }
  const promptFlag = values.start !== undefined ? `--start ${values.start}` : '--prompt';
  const isNames = config.task === 'names';
  let lm: LanguageModel & { dispose?(): void };
  let promptIds: number[];
  let eosId: number | undefined;
  let stop: string[] | undefined;
  let echo = ''; // the prompt, printed before each sample's continuation
  if (config.model.kind === 'gpt' || config.model.kind === 'llama') {
    const prompt = given ?? (isNames || tokenizer.encode('\n').length ? '\n' : '');
    promptIds = encodeOrExplain(tokenizer, prompt, promptFlag);
    if (promptIds.length === 0) promptIds = [0];
    lm = withinTokenizer(model as GPT | Llama, tokenizer.vocabSize); // no padded embedding row is sampled (Qwen2)
    if (isNames) stop = ['\n'];
    echo = prompt === '\n' ? '' : prompt;
  } else {
    if (typeof given !== 'string' || given === '') throw new UsageError(`this is a ${config.task} model: give the source with --prompt, e.g. --prompt "27 Nov 2026"`);
    const specials = config.model.specials;
    lm = (model as EncoderDecoderTransformer).conditionOn(encodeOrExplain(tokenizer, given, promptFlag), { padId: specials.pad });
    promptIds = [specials.bos];
    eosId = specials.eos;
    options.maxNewTokens ??= maxTargetLength(config.task as Seq2SeqTask) + 1;
  }
  const maxNewTokens = options.maxNewTokens ?? (isNames ? 30 : 200);
  try {
    for (let i = 0; i < numSamples; i++) {
      // nanoGPT's separator between samples; a name is one line, so names need none.
      if (i > 0 && !json && !isNames) io.stdout.write('---------------\n');
      // Sample i draws with seed + i (the default seed is @tx/generate's, 1337), so each differs and each can be redrawn alone.
      const seed = i === 0 ? options.seed : ((options.seed ?? 1337) + i) >>> 0;
      if (!json) io.stdout.write(echo);
      if (beams !== undefined) await beamSample(lm, promptIds, { beams, maxNewTokens, eosId }, tokenizer, json, io);
      else await streamSample(lm, promptIds, { ...options, seed, maxNewTokens, tokenizer, eosId, stop }, json, io);
    }
  } finally {
    lm.dispose?.();
  }
}

/** One beam-search answer: its text, or with --json one object. */
async function beamSample(lm: LanguageModel, promptIds: number[], opts: { beams: number; maxNewTokens: number; eosId?: number }, tokenizer: Tokenizer, json: boolean, io: Io): Promise<void> {
  const t0 = performance.now();
  const result = await beamSearch(lm, promptIds, opts);
  const text = tokenizer.decode(result.ids.filter((id) => id !== opts.eosId));
  const tokensPerSecond = result.ids.length / ((performance.now() - t0) / 1000);
  io.stdout.write(json ? `${JSON.stringify({ done: true, text, ids: result.ids, logprob: result.logprob, tokensPerSecond })}\n` : `${text}\n`);
}

/** One sample, streamed token by token: its text then a newline, or with --json one object per token and then the result. */
async function streamSample(lm: LanguageModel, promptIds: number[], opts: GenerateTextOptions & { eosId?: number }, json: boolean, io: Io): Promise<void> {
  const t0 = performance.now();
  const ids: number[] = [];
  let text = '';
  const stream = streamTokens(lm, promptIds, opts);
  let finish: FinishReason = 'length';
  for (;;) {
    const next = await stream.next();
    if (next.done) {
      finish = next.value;
      break;
    }
    const t = next.value;
    if (t.id === opts.eosId) continue; // the stream ends next with finish reason 'eos'
    ids.push(t.id);
    text += t.text;
    io.stdout.write(json ? `${JSON.stringify({ id: t.id, text: t.text, logprob: t.logprob, top: t.top })}\n` : t.text);
  }
  const tokensPerSecond = ids.length / ((performance.now() - t0) / 1000);
  io.stdout.write(json ? `${JSON.stringify({ done: true, text, ids, finishReason: finish, tokensPerSecond })}\n` : '\n');
}

function encodeOrExplain(tokenizer: Tokenizer, text: string, flag: string): number[] {
  try {
    return tokenizer.encode(text);
  } catch (err) {
    throw new TxError(`${flag}: ${(err as Error).message}`);
  }
}

// ---- tx eval ----------------------------------------------------------------

// tx eval says what it estimates, so that its figure can be set beside
// training's: training's val loss is the mean of evalIters random batches
// (Rng(seed + step)), this one of every window of the split, once, no sampling.
export async function evalCommand(argv: string[], io: Io): Promise<void> {
  const { values } = parse(argv, EVAL_FLAGS);
  const opened = await open(values);
  const { config, model, tokenizer } = opened;
  if (config.model.kind === 'encoder') return corefEval(opened, values, io);
  const print = (result: Record<string, unknown>, lines: string[]) => io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${lines.join('\n')}\n`);
  const count = (n: number) => n.toLocaleString('en-US');
  if (config.model.kind === 'encoder-decoder') {
    if (values.data) throw new UsageError(`--data is for language models; the ${config.task} task makes its own test examples`);
    const seed = config.settings.seed + 99; // fresh examples, not the training stream's
    const examples = makeExamples(config.task as Seq2SeqTask, 500, new Rng(seed));
    const predictions = await greedyDecode(model as EncoderDecoderTransformer, tokenizer, examples.map((e) => e.source), maxTargetLength(config.task as Seq2SeqTask));
    const accuracy = exactMatch(predictions, examples);
    print({ task: config.task, examples: examples.length, seed, decoding: 'greedy', accuracy }, [
      `data      ${count(examples.length)} fresh ${config.task} examples, generated with seed ${seed} (the run's seed ${config.settings.seed} + 99)`,
      'estimate  exact match of the greedy answer',
      `accuracy  ${accuracy.toFixed(4)}`,
    ]);
    return;
  }
  const gpt = model as GPT | Llama;
  const s = config.settings;
  let tokens: Int32Array;
  let source: string;
  let split: 'val' | null = null;
  if (typeof values.data === 'string') {
    const text = await readTextFile(values.data, '--data');
    tokens = Int32Array.from(encodeOrExplain(tokenizer, text, `--data ${values.data}`));
    source = values.data;
  } else {
    if (s.task === 'text' && !s.data) throw new UsageError(`${values.checkpoint} was imported (${JSON.stringify(config.importedFrom ?? {})}): give the text to evaluate with --data FILE`);
    tokens = new TokenDataset(encodeCorpus(tokenizer, await corpusText(s), `--checkpoint ${values.checkpoint}: its corpus ${s.data ?? 'the names corpus'} (settings.data)`)).val;
    source = `${s.data ?? 'names corpus'} (validation split)`;
    split = 'val';
  }
  const T = gpt.config.blockSize;
  if (tokens.length < T + 1) throw new TxError(`${source}: ${tokens.length} tokens, fewer than the context + 1 (${T + 1})`);
  // Every token predicted once: non-overlapping windows of T targets, up to 64 per forward pass (as memory allows).
  const windows = Math.floor((tokens.length - 1) / T);
  const budget = memoryBudget(tf.getBackend());
  let perPass = 64;
  while (perPass > 1 && estimateMemory(config.model, { batchSize: perPass, training: false }).totalBytes > budget.bytes) perPass >>= 1;
  let total = 0;
  for (let w = 0; w < windows; w += perPass) {
    const n = Math.min(perPass, windows - w);
    const x = new Int32Array(n * T);
    const y = new Int32Array(n * T);
    for (let i = 0; i < n; i++) {
      x.set(tokens.subarray((w + i) * T, (w + i + 1) * T), i * T);
      y.set(tokens.subarray((w + i) * T + 1, (w + i + 1) * T + 1), i * T);
    }
    const loss = languageModelLoss(gpt, { x, y, batchSize: n, blockSize: T });
    total += (await loss.data())[0] * n;
    loss.dispose();
  }
  const loss = total / windows;
  // The names corpus is shuffled with the run's seed before its split: the seed chooses which names are in val.
  const splitNote = split === null ? '' : s.task === 'names' ? `, the last 10% of the names shuffled with seed ${s.seed}` : ', the last 10% of the text';
  const lines = [
    `data        ${source}${splitNote}: ${count(tokens.length)} tokens`,
    `estimate    every token once, in ${count(windows)} windows of ${T} (${count(windows * T)} targets), no sampling`,
    `loss        ${loss.toFixed(4)}  perplexity ${Math.exp(loss).toFixed(4)}`,
  ];
  // Training's last estimate of the same split, as training computed it: evalIters random batches drawn with Rng(seed + step).
  const t = config.training as { step: number; valLoss?: number | null };
  let training: Record<string, number> | undefined;
  if (split === 'val' && typeof t.valLoss === 'number' && Number.isFinite(t.valLoss)) {
    training = { step: t.step, valLoss: t.valLoss, batches: s.evalIters, batchSize: s.batchSize, blockSize: s.blockSize, seed: s.seed + t.step };
    lines.push(
      `training    val loss ${t.valLoss.toFixed(4)} at step ${t.step}: the mean of ${s.evalIters} random batches of ${s.batchSize} x ${s.blockSize} (${count(s.evalIters * s.batchSize * s.blockSize)} targets, windows may repeat), drawn with seed ${s.seed} + ${t.step}`,
    );
  }
  const splitSeed = split !== null && s.task === 'names' ? { splitSeed: s.seed } : {};
  print({ data: source, split, ...splitSeed, tokens: windows * T, windows, blockSize: T, loss, perplexity: Math.exp(loss), ...(training ? { training } : {}) }, lines);
}

// ---- tx inspect ----------------------------------------------------------------

export async function inspectCommand(argv: string[], io: Io): Promise<void> {
  const { values } = parse(argv, INSPECT_FLAGS);
  const text = required(values, 'text');
  const opened = await open(values);
  const { config, model, tokenizer } = opened;
  if (config.model.kind === 'encoder') return corefInspect(opened, text, values, io);
  // Long texts and big models: only the layers and heads asked for, and logits only when wanted.
  const layerCount = config.model.kind === 'gpt' || config.model.kind === 'llama' ? config.model.config.nLayer : Math.max(config.model.config.nEncoderLayer, config.model.config.nDecoderLayer);
  const pickLayers = indexList(values.layers, '--layers', layerCount);
  const pickHeads = indexList(values.heads, '--heads', config.model.config.nHead);
  const round = (rows: number[][]) => rows.map((r) => r.map((v) => Math.round(v * 1e6) / 1e6));
  // Only the chosen layers are read back, and of them only the chosen heads (gathered on the device).
  const readAttention = (layers: tf.Tensor[]) =>
    Promise.all(
      layers
        .filter((_, l) => !pickLayers || pickLayers.includes(l))
        .map(async (a) => {
          const heads = pickHeads ? tf.gather(a, pickHeads, 1) : a;
          const rows = ((await heads.array()) as number[][][][])[0];
          if (heads !== a) heads.dispose();
          return rows.map(round);
        }),
    );
  const readLogits = async (logits: tf.Tensor) => (values['no-logits'] ? {} : { logits: round(((await logits.array()) as number[][][])[0]) });
  let result: Record<string, unknown>;
  if (config.model.kind === 'gpt' || config.model.kind === 'llama') {
    const gpt = model as GPT | Llama;
    const ids = encodeOrExplain(tokenizer, text, '--text');
    if (ids.length === 0) throw new UsageError('--text encodes to no tokens');
    if (ids.length > gpt.config.blockSize) throw new TxError(`--text is ${ids.length} tokens, longer than the model's context (${gpt.config.blockSize})`);
    const input = row(ids);
    const { logits, attention } = gpt.forward(input, { returnAttention: true });
    input.dispose();
    const logitsOut = await readLogits(logits);
    const att = await readAttention(attention!);
    let loss: number | null = null;
    if (ids.length > 1) {
      const l = tf.tidy(() => crossEntropy(tf.slice(logits, [0, 0, 0], [1, ids.length - 1, -1]), tf.tensor2d([ids.slice(1)], [1, ids.length - 1], 'int32')));
      loss = (await l.data())[0];
      l.dispose();
    }
    tf.dispose([logits, ...attention!]);
    result = { tokens: ids.map((id) => tokenizer.decode([id])), ids, ...logitsOut, attention: att, loss };
    if (pickLayers) result.layers = pickLayers;
    if (pickHeads) result.heads = pickHeads;
    if (config.model.kind === 'llama') {
      // Grouped-query attention: query head j reads KV head floor(j / (nHead / nKvHead)), as listed per head shown.
      const { nHead, nKvHead } = config.model.config;
      result.kvHeads = (pickHeads ?? [...Array(nHead).keys()]).map((j) => Math.floor(j / (nHead / nKvHead)));
    }
  } else {
    const ed = model as EncoderDecoderTransformer;
    const { bos, eos } = config.model.specials;
    const srcIds = encodeOrExplain(tokenizer, text, '--text');
    const targetText = typeof values.target === 'string' ? values.target : (await greedyDecode(ed, tokenizer, [text], maxTargetLength(config.task as Seq2SeqTask)))[0];
    const tgtIds = encodeOrExplain(tokenizer, targetText, '--target');
    const tgtIn = [bos, ...tgtIds];
    const tgtOut = [...tgtIds, eos];
    const [src, tgt] = [row(srcIds), row(tgtIn)];
    const { logits, attention } = ed.forward(src, tgt, { returnAttention: true });
    tf.dispose([src, tgt]);
    const l = tf.tidy(() => crossEntropy(logits, tf.tensor2d([tgtOut], [1, tgtOut.length], 'int32')));
    result = {
      tokens: tgtIn.map((id) => tokenizer.decode([id])),
      ids: tgtIn,
      ...(await readLogits(logits)),
      attention: await readAttention(attention!.decoder),
      loss: (await l.data())[0],
      sourceTokens: srcIds.map((id) => tokenizer.decode([id])),
      sourceIds: srcIds,
      cross: await readAttention(attention!.cross),
      encoderAttention: await readAttention(attention!.encoder),
      prediction: targetText,
    };
    tf.dispose([logits, l, ...attention!.decoder, ...attention!.cross, ...attention!.encoder]);
  }
  if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    io.stdout.write(`tokens: ${JSON.stringify(result.tokens)}\n`);
    if (result.loss !== null) io.stdout.write(`loss: ${(result.loss as number).toFixed(4)}\n`);
    io.stdout.write(`attention: ${(result.attention as unknown[]).length} layers x ${((result.attention as unknown[][])[0] ?? []).length} heads (use --json for the weights)\n`);
  }
}

/** "0,2,5" or "0-3" (or both) as sorted indices below `count`; undefined when the flag is absent. */
function indexList(raw: unknown, flag: string, count: number): number[] | undefined {
  if (raw === undefined) return undefined;
  const out = new Set<number>();
  for (const part of String(raw).split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part); // plain decimal, no spaces, as every number flag
    const [from, to] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [NaN, NaN];
    if (!m || from > to || to >= count) throw new UsageError(`${flag} must list indices below ${count}, such as 0,2 or 0-3; got "${raw}"`);
    for (let i = from; i <= to; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}
