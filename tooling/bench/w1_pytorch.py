"""Workload W1's training step in PyTorch, as the baseline @tx measures itself
against (GUIDE §4): nanoGPT's model (n_layer 4, n_head 4, n_embd 128,
block 64, vocab 65, bias=False, dropout 0), batch 12, cross-entropy, backward,
clip_grad_norm_(1.0) and AdamW, on random tokens, on the CPU.

Prints one JSON line: {"msPerStep": median, "tokensPerSecond": ..., "threads": N}.
Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tooling/bench/w1_pytorch.py [--steps 20] [--threads 1]
(Debian python3-torch 1.13 with libopenblas0-pthread; tooling/bench/w1.mjs runs it beside @tx.)
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=20)
parser.add_argument("--threads", type=int, default=1)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1337)

V, T, L, H, C, B = 65, 64, 4, 4, 128, 12


class LayerNorm(nn.Module):  # nanoGPT's, with bias=False
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, None, 1e-5)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = LayerNorm(C), LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C, bias=False)
        self.c_proj = nn.Linear(C, C, bias=False)
        self.c_fc = nn.Linear(C, 4 * C, bias=False)
        self.mlp_proj = nn.Linear(4 * C, C, bias=False)
        self.register_buffer("mask", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def attn(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (z.view(b, t, H, c // H).transpose(1, 2) for z in (q, k, v))
        # torch 1.13 has no fused scaled_dot_product_attention: nanoGPT's manual path
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf")).softmax(dim=-1)
        return self.c_proj((att @ v).transpose(1, 2).contiguous().view(b, t, c))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList(Block() for _ in range(L))
        self.ln_f = LayerNorm(C)
        self.lm_head = nn.Linear(C, V, bias=False)
        self.wte.weight = self.lm_head.weight

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, V), targets.view(-1))


model = GPT()
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))
times = []
for i in range(args.steps + 3):
    x = torch.randint(V, (B, T))
    y = torch.randint(V, (B, T))
    t0 = time.perf_counter()
    loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if i >= 3:
        times.append((time.perf_counter() - t0) * 1000)
ms = statistics.median(times)
print(json.dumps({"msPerStep": ms, "tokensPerSecond": B * T * 1000 / ms, "threads": args.threads, "torch": torch.__version__}))
