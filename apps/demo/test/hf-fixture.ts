// A Hugging Face GPT-2 folder with GPT-2's context of 1,024 tokens, for the
// browser tests, written at test time (nothing large is committed). It is
// the PyTorch fixture of packages/blocks/test/fixtures/hf-gpt2
// (tooling/fixtures/hf_gpt2.py: 2 layers, 2 heads, n_embd 64, trained on a
// short story, context 64) with its learned positions repeated every 64
// rows up to 1,024: a trained model's attention, at the length of GPT-2's.
// Same layout as save_pretrained: config.json, model.safetensors (F32),
// tokenizer.json, and vocab.json + merges.txt.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, serializeSafetensors, tf } from '@tx/core';

export const SOURCE = fileURLToPath(new URL('../../../packages/blocks/test/fixtures/hf-gpt2/', import.meta.url));
export const NAME = 'hf-gpt2-1024';
export const POSITIONS = 1024;

/** Write the folder into `dir` (needs a tfjs backend: @tx/core's writer takes tensors). Returns its file paths by name. */
export async function writeHuggingFaceFixture(dir: string): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(SOURCE, 'f32', 'config.json'), 'utf8'));
  Object.assign(config, { _name_or_path: NAME, n_positions: POSITIONS, n_ctx: POSITIONS });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));

  const { tensors, metadata } = parseSafetensors(readFileSync(join(SOURCE, 'f32', 'model.safetensors')));
  const wpe = tensors['transformer.wpe.weight'];
  const [rows, width] = wpe.shape;
  const tiled = new Float32Array(POSITIONS * width);
  for (let p = 0; p < POSITIONS; p++) tiled.set(wpe.data.subarray((p % rows) * width, (p % rows + 1) * width), p * width);
  tensors['transformer.wpe.weight'] = { dtype: 'float32', shape: [POSITIONS, width], data: tiled };
  const onBackend = Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, tf.tensor(t.data, t.shape, t.dtype)]));
  writeFileSync(join(dir, 'model.safetensors'), await serializeSafetensors(onBackend, metadata));
  tf.dispose(Object.values(onBackend));

  for (const file of ['tokenizer.json', 'vocab.json', 'merges.txt']) copyFileSync(join(SOURCE, file), join(dir, file));
  return Object.fromEntries(['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.json', 'merges.txt'].map((f) => [f, join(dir, f)]));
}

/** The story the fixture was trained on (hf_gpt2.py's TEXT): 462 tokens. */
export const STORY = 'The little fox lives in the old forest. Every morning the fox walks to the river, ' +
  'and every evening the fox walks back to the forest. The fox\'s friend is a small brown owl. ' +
  'The owl sleeps in the day and sings in the night. When the moon is bright, the owl sings ' +
  'to the fox, and the fox listens. In the village near the forest there is a café. ' +
  'The café opens at 7 and closes at 9. The baker at the café makes bread for the village, ' +
  'and the fox likes the smell of the bread. One night the owl said: "Fox, the bread at the ' +
  'café is warm." The fox said: "Then we will walk to the café in the morning." ' +
  'In the morning the fox and the owl walked to the café, and the baker gave them bread. ' +
  'The fox said the bread was the best bread in the village. The owl said it was the best ' +
  'bread in the world. Then the fox walked back to the forest, and the owl flew back to ' +
  'the old tree, and they slept until the moon was bright again.\n';

/** The story three times: 1,386 tokens, of which the page reads the last 1,024. */
export const LONG_STORY = STORY.repeat(3);

/** The Llama-family fixtures (tooling/fixtures/hf_llama.py): 2 layers, 4 query heads, BF16 weights in two shards plus an index. */
export const LLAMA_SOURCE = fileURLToPath(new URL('../../../packages/blocks/test/fixtures/hf-llama/', import.meta.url));
export const LLAMA_FILES = ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'tokenizer.json'] as const;

/** Copy a Llama-family fixture ('llama', 'mistral' or 'qwen2') into `dir` as `hf-${arch}-tiny` (config.json's _name_or_path). Returns its file paths by name. */
export function writeLlamaFixture(dir: string, arch: 'llama' | 'mistral' | 'qwen2'): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(LLAMA_SOURCE, arch, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, _name_or_path: `hf-${arch}-tiny` }, null, 2));
  for (const file of LLAMA_FILES.slice(1)) copyFileSync(join(LLAMA_SOURCE, arch, file), join(dir, file));
  return Object.fromEntries(LLAMA_FILES.map((f) => [f, join(dir, f)]));
}
