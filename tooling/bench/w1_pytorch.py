"""Workload W1's training step in PyTorch, as the baseline @tx measures itself
against (docs/performance.md §5): nanoGPT's model (n_layer 4, n_head 4, n_embd 128,
block 64, vocab 65, bias=False, dropout 0), batch 12, cross-entropy, backward,
clip_grad_norm_(1.0) and AdamW, on random tokens, on the CPU.

Prints one JSON line: {"msPerStep": median, "tokensPerSecond": ..., "threads": N}.
Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tooling/bench/w1_pytorch.py [--steps 20] [--threads 1]
(Debian python3-torch 1.13 with libopenblas0-pthread; tooling/bench/w1.mjs runs it beside @tx.)
"""
import argparse
import json
import statistics
import time

import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "fixtures"))
from blocks import GPT  # noqa: E402  (nanoGPT's architecture, the one @tx/blocks is tested against)

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=20)
parser.add_argument("--threads", type=int, default=1)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1337)

V, T, L, H, C, B = 65, 64, 4, 4, 128, 12


config = dict(vocab_size=V, block_size=T, n_layer=L, n_head=H, n_embd=C, bias=False)


def loss_of(model, idx, targets):
    logits, _ = model(idx)
    return F.cross_entropy(logits.view(-1, V), targets.view(-1))


model = GPT(config)  # the fixtures' nanoGPT model (tooling/fixtures/blocks.py)
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))
times = []
for i in range(args.steps + 3):
    x = torch.randint(V, (B, T))
    y = torch.randint(V, (B, T))
    t0 = time.perf_counter()
    loss = loss_of(model, x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if i >= 3:
        times.append((time.perf_counter() - t0) * 1000)
ms = statistics.median(times)
print(json.dumps({"msPerStep": ms, "tokensPerSecond": B * T * 1000 / ms, "threads": args.threads, "torch": torch.__version__}))
