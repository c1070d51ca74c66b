import fs from 'fs';
import { BpeTokenizer } from './dist/index.js';
import cl from 'js-tiktoken/ranks/cl100k_base';
import gpt2 from 'js-tiktoken/ranks/gpt2';
const text = fs.readFileSync('/work/shared/data/tinyshakespeare.txt','utf8');
for (const which of [gpt2, cl, gpt2, cl]) {
const ours = BpeTokenizer.fromTiktoken(which);
const out = [];
for (let r=0;r<5;r++){ const t0 = performance.now(); ours.encode(text); const dt = performance.now()-t0; out.push((text.length/1e6/(dt/1000)).toFixed(1)); }
console.log(which === gpt2 ? 'gpt2' : 'cl', out.join(' '));
}
