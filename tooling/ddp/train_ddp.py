"""Train a tx model further with PyTorch's DistributedDataParallel, and bring it back.

  pnpm tx export --checkpoint runs/text --out export --format nanogpt      (or --format hf)
  torchrun --nproc_per_node=2 tooling/ddp/train_ddp.py --init-from export --data corpus.txt --out trained
  pnpm tx import nanogpt --weights trained/model.safetensors --model-args "$(cat trained/model_args.json)" \\
      --vocab-from trained/vocab.txt --out runs/trained                  (hf: tx import hf --dir trained)

Plain PyTorch (Debian's python3-torch 1.13 is enough), read top to bottom:
  model     nanoGPT's GPT from tooling/fixtures/blocks.py, the one @tx/blocks is tested against
  data      --data encoded with the export's own character tokenizer, first 90% train (as tx train);
            the global batch of step i is --batch-size windows of block_size + 1 tokens at offsets
            drawn from torch.Generator seeded with seed + i, and process r takes rows [r*b, (r+1)*b):
            the batches do not depend on the number of processes
  step      DDP averages the processes' gradients (the gradient of the mean loss over the global
            batch), clip_grad_norm_(grad_clip), AdamW with nanoGPT's groups (weight decay on
            parameters of dim >= 2 only), lr by nanoGPT's get_lr: @tx/train's AdamW, cosineWithWarmup
            and trainLoop, with tx train's defaults for the text task
  eval      every token of --eval-data (default: --data's last 10%) predicted once, in
            non-overlapping windows of block_size: what `tx eval --data FILE` computes
  out       model.safetensors in the layout read in (nanoGPT's names and [out, in], or GPT-2's
            Conv1D [in, out]), train_log.json, and model_args.json + tokenizer.json + vocab.txt (its
            characters, for `tx import nanogpt --vocab-from`) or config.json + tx-tokenizer.json (hf)
Process group: nccl on GPUs (one per process, LOCAL_RANK), gloo on CPUs. AdamW's moments do not
travel (exports hold weights only), so a run here starts from fresh moments, warm-up included.
Debian 12's torchrun (torch 1.13 on Python 3.11) fails on its own defaults: add --redirects 1 --tee 1.
"""
import argparse
import json
import math
import os
import pathlib
import struct
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "fixtures"))
from blocks import GPT, save_safetensors  # noqa: E402  (nanoGPT's architecture, tested against @tx/blocks)

p = argparse.ArgumentParser(description="Train a `tx export --format nanogpt|hf` folder with DDP (run it with torchrun).")
p.add_argument("--init-from", required=True, help="a folder written by `tx export --format nanogpt` or `--format hf`")
p.add_argument("--data", required=True, help="the training text (UTF-8); its first 90%% is trained on")
p.add_argument("--out", help="the folder to write (required unless --eval-only)")
p.add_argument("--eval-data", help="the text to evaluate at the end (default: --data's last 10%%)")
p.add_argument("--eval-only", action="store_true", help="evaluate the --init-from model and stop")
p.add_argument("--max-iters", type=int, default=2000)
p.add_argument("--batch-size", type=int, default=12, help="the global batch, split evenly over the processes")
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--min-lr", type=float, default=1e-4)
p.add_argument("--warmup-iters", type=int, default=100)
p.add_argument("--lr-decay-iters", type=int, help="default: max(max_iters, warmup_iters + 1), as tx train")
p.add_argument("--weight-decay", type=float, default=0.1)
p.add_argument("--beta2", type=float, default=0.99)
p.add_argument("--grad-clip", type=float, default=1.0)
p.add_argument("--seed", type=int, default=1337)
p.add_argument("--log-interval", type=int, default=10)
p.add_argument("--log-batches", action="store_true", help="write every step's global batch to train_log.json (to replay the run in tx)")
p.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto", help="auto: nccl where CUDA is, else gloo")
args = p.parse_args()
rank, world, local_rank = (int(os.environ.get(k, d)) for k, d in [("RANK", 0), ("WORLD_SIZE", 1), ("LOCAL_RANK", 0)])
os.environ.setdefault("MASTER_ADDR", "127.0.0.1")  # one process without torchrun
os.environ.setdefault("MASTER_PORT", "29500")


def fail(message):
    """Bad input: one line (from the first process only), exit code 2."""
    if rank == 0:
        print(f"train_ddp.py: {message}", file=sys.stderr)
    sys.exit(2)


def log(message):
    if rank == 0:
        print(message, flush=True)


# ---------------------------------------------------------------- the export: model, weights, tokenizer

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
CONV1D = (".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight")


def read_json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        fail(f"{path}: cannot read it as JSON ({err})")


def read_safetensors(path):
    """The safetensors layout by hand: u64 header length, JSON header, raw little-endian tensors."""
    try:
        raw = path.read_bytes()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
    except (OSError, ValueError, struct.error) as err:
        fail(f"{path}: not a safetensors file ({err})")
    header.pop("__metadata__", None)
    tensors = {}
    for name, h in header.items():
        if h["dtype"] not in DTYPES:
            fail(f"{path}: {name} is {h['dtype']}; this script reads F32, F16 and BF16")
        start, end = (8 + n + o for o in h["data_offsets"])
        tensors[name] = torch.frombuffer(bytearray(raw[start:end]), dtype=DTYPES[h["dtype"]]).reshape(h["shape"]).float()
    return tensors


def load_export(folder):
    """(format, model_args, state dict in nanoGPT's names and layout, tokenizer JSON) of an export folder."""
    if (folder / "model_args.json").exists():
        fmt, model_args, tok_file = "nanogpt", read_json(folder / "model_args.json"), "tokenizer.json"
        sd = read_safetensors(folder / "model.safetensors")
    elif (folder / "config.json").exists():
        fmt, c, tok_file = "hf", read_json(folder / "config.json"), "tx-tokenizer.json"
        if c.get("model_type") != "gpt2":
            fail(f"{folder / 'config.json'}: model_type {c.get('model_type')!r}; this script trains GPT-2 (tx export --format hf)")
        if c.get("layer_norm_epsilon", 1e-5) != 1e-5 or c.get("activation_function") not in ("gelu", "gelu_new"):
            fail(f"{folder / 'config.json'}: layer_norm_epsilon 1e-5 and activation gelu or gelu_new only")
        model_args = dict(vocab_size=c["vocab_size"], block_size=c["n_positions"], n_layer=c["n_layer"], n_head=c["n_head"],
                          n_embd=c["n_embd"], bias=True, dropout=0.0, activation=c["activation_function"])
        sd = {}  # GPT-2's names without "transformer.", Conv1D weights [in, out], buffers, no lm_head
        for name, t in read_safetensors(folder / "model.safetensors").items():
            if not name.endswith((".attn.bias", ".attn.masked_bias")):
                ours = name if name.startswith(("transformer.", "lm_head.")) else f"transformer.{name}"
                sd[ours] = t.t().contiguous() if ours.endswith(CONV1D) else t
    else:
        fail(f"--init-from {folder}: expected model_args.json (tx export --format nanogpt) or config.json (--format hf)")
    if model_args.get("dropout", 0.0) != 0.0:
        fail(f"--init-from {folder}: dropout {model_args['dropout']}; the fixtures' nanoGPT model trains without dropout")
    tokenizer = read_json(folder / tok_file) if (folder / tok_file).exists() else fail(f"{folder / tok_file} is missing: the tokenizer travels with the model")
    if tokenizer.get("kind") != "char" or tokenizer.get("specialTokens") or tokenizer.get("unk"):
        fail(f"{folder / tok_file}: a {tokenizer.get('kind')!r} tokenizer; this script encodes text with plain character tokenizers (tx's char kind, no special tokens)")
    if fmt == "nanogpt" and list(tokenizer["chars"]) != sorted(tokenizer["chars"]):
        fail(f"{folder / tok_file}: characters not in code point order, which tx import nanogpt --vocab-from cannot give back; export with --format hf")
    return fmt, model_args, sd, tokenizer


def build_model(model_args, sd, where):
    model = GPT(model_args)
    if model_args.get("activation") == "gelu_new":  # GPT-2's tanh GELU
        for block in model.transformer.h:
            block.mlp.act = nn.GELU(approximate="tanh")
    sd.setdefault("lm_head.weight", sd.get("transformer.wte.weight"))  # tied, as nanoGPT
    own = model.state_dict()
    problems = [f"missing {k}" for k in own if k not in sd and not k.endswith(".attn.bias")]
    problems += [f"unexpected {k}" for k in sd if k not in own]
    problems += [f"{k} is {list(sd[k].shape)}, expected {list(own[k].shape)}" for k in own if k in sd and sd[k].shape != own[k].shape]
    if not problems and not torch.equal(sd["lm_head.weight"], sd["transformer.wte.weight"]):
        problems.append("lm_head.weight differs from transformer.wte.weight (nanoGPT ties them)")
    if problems:
        fail(f"{where}: " + "; ".join(problems))
    model.load_state_dict({**own, **sd})
    return model


def encode(path, chars):
    """A text file as ids of the tokenizer's characters (code points, as tx's CharTokenizer)."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")  # as Node's readFile(path, 'utf8'): no newline translation
    except OSError as err:
        fail(f"{path}: cannot read it ({err.strerror})")
    index = {ch: i for i, ch in enumerate(chars)}
    unknown = next((i for i, ch in enumerate(text) if ch not in index), None)
    if unknown is not None:
        line = text.count("\n", 0, unknown) + 1
        fail(f"{path}: {text[unknown]!r} at offset {unknown} (line {line}) is not in the tokenizer's {len(chars)} characters")
    return torch.tensor([index[ch] for ch in text], dtype=torch.long)


# ---------------------------------------------------------------- the loop

def get_lr(it, decay_iters):
    """nanoGPT's get_lr, as @tx/train's cosineWithWarmup."""
    if it < args.warmup_iters:
        return args.lr * (it + 1) / (args.warmup_iters + 1)
    if it > decay_iters:
        return args.min_lr
    ratio = (it - args.warmup_iters) / (decay_iters - args.warmup_iters)
    return args.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (args.lr - args.min_lr)


def get_batch(train, step, T):
    """The whole global batch of a step, from the seed alone: [B, T] inputs and targets."""
    g = torch.Generator().manual_seed(args.seed + step)
    starts = torch.randint(len(train) - T, (args.batch_size,), generator=g)
    x = torch.stack([train[s:s + T] for s in starts.tolist()])
    y = torch.stack([train[s + 1:s + T + 1] for s in starts.tolist()])
    return x, y


@torch.no_grad()
def evaluate(model, tokens, T, device):
    """Mean cross-entropy of every token after the first, in non-overlapping windows of T (tx eval --data)."""
    model.eval()
    windows = (len(tokens) - 1) // T
    x, y = tokens[:windows * T].view(windows, T), tokens[1:windows * T + 1].view(windows, T)
    total = 0.0
    for i in range(0, windows, 64):
        logits, _ = model(x[i:i + 64].to(device))
        total += F.cross_entropy(logits.flatten(0, 1), y[i:i + 64].to(device).flatten(), reduction="sum").item()
    model.train()
    return windows * T, total / (windows * T)


def main():
    init_from = pathlib.Path(args.init_from)
    fmt, model_args, sd, tokenizer = load_export(init_from)
    T = model_args["block_size"]
    data = encode(pathlib.Path(args.data), tokenizer["chars"])
    n = math.floor(len(data) * 0.9)  # tx train's split: the first 90%, the same double arithmetic as its Math.floor
    train, val = data[:n], data[n:]
    eval_tokens = encode(pathlib.Path(args.eval_data), tokenizer["chars"]) if args.eval_data else val
    eval_name = args.eval_data or f"{args.data} (last 10%)"
    for name, tokens in [(f"{args.data} (first 90%)", train), (eval_name, eval_tokens)]:
        if len(tokens) < T + 1:
            fail(f"{name}: {len(tokens)} tokens, fewer than block_size + 1 ({T + 1})")
    if args.batch_size % world:
        fail(f"--batch-size {args.batch_size} does not split evenly over {world} processes")
    if not args.eval_only and not args.out:
        fail("--out is required (the folder to write the trained model to)")

    cuda = torch.cuda.is_available() and args.backend != "gloo"
    backend = "nccl" if cuda else "gloo"
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    model = build_model(model_args, sd, init_from / "model.safetensors").to(device)
    params = sum(q.numel() for q in model.parameters())
    log(f"{fmt} model from {init_from}: {params:,} parameters; {len(train):,} train tokens of {args.data} "
        f"(vocabulary {len(tokenizer['chars'])}); {world} process{'es' if world > 1 else ''} over {backend} on {device.type}")
    if args.eval_only:
        tokens, loss = evaluate(model, eval_tokens, T, device)
        return log(json.dumps({"data": eval_name, "tokens": tokens, "loss": loss}))

    dist.init_process_group(backend, rank=rank, world_size=world)
    ddp = DDP(model, device_ids=[local_rank] if cuda else None)
    decay = [q for q in model.parameters() if q.dim() >= 2]  # the tied wte/lm_head once
    no_decay = [q for q in model.parameters() if q.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, args.beta2), eps=1e-8)
    decay_iters = args.lr_decay_iters or max(args.max_iters, args.warmup_iters + 1)
    b = args.batch_size // world
    history, batches = [], []
    model.train()
    for it in range(args.max_iters):
        lr = get_lr(it, decay_iters)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = get_batch(train, it, T)
        if it == 0 or args.log_batches:
            batches.append({"x": x.tolist(), "y": y.tolist()})
        logits, _ = ddp(x[rank * b:(rank + 1) * b].to(device))
        loss = F.cross_entropy(logits.flatten(0, 1), y[rank * b:(rank + 1) * b].to(device).flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()  # DDP all-reduces: every process now holds the mean gradient
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip) if args.grad_clip > 0 else torch.tensor(float("nan"))
        opt.step()
        mean_loss = loss.detach().clone()
        dist.all_reduce(mean_loss)  # the loss over the global batch, for the log
        history.append({"step": it + 1, "loss": mean_loss.item() / world, "lr": lr, "gradNorm": norm.item()})
        if it == 0 or (it + 1) % args.log_interval == 0 or it + 1 == args.max_iters:
            log(f"step {it + 1}: loss {history[-1]['loss']:.4f}, lr {lr:.3e}, grad norm {norm.item():.4f}")

    if rank == 0:
        tokens, eval_loss = evaluate(model, eval_tokens, T, device)
        log(f"eval on {eval_name}: {tokens:,} tokens, loss {eval_loss:.4f}")
        save(pathlib.Path(args.out), fmt, init_from, model, model_args, tokenizer,
             {"format": fmt, "processes": world, "backend": backend, "steps": history, "batches": batches,
              "eval": {"data": eval_name, "tokens": tokens, "loss": eval_loss}})
    dist.barrier()
    dist.destroy_process_group()


def save(out, fmt, init_from, model, model_args, tokenizer, train_log):
    """The trained model in the layout it came in, with its tokenizer, for `tx import`."""
    out.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().cpu() for k, v in model.state_dict().items() if not k.endswith(".attn.bias")}
    meta = {"format": "pt", "source": "tooling/ddp/train_ddp.py"}
    if fmt == "nanogpt":
        save_safetensors(out / "model.safetensors", sd, meta)
        (out / "model_args.json").write_text(json.dumps(model_args, indent=2) + "\n")
        (out / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        (out / "vocab.txt").write_bytes(tokenizer["chars"].encode("utf-8"))  # its sorted distinct characters are the vocabulary
        back = f'pnpm tx import nanogpt --weights {out}/model.safetensors --model-args "$(cat {out}/model_args.json)" --vocab-from {out}/vocab.txt --out DIR'
    else:  # GPT-2's layout again: Conv1D weights [in, out], lm_head tied and left out
        del sd["lm_head.weight"]
        save_safetensors(out / "model.safetensors", {k: v.t() if k.endswith(CONV1D) else v for k, v in sd.items()}, meta)
        (out / "config.json").write_text((init_from / "config.json").read_text(encoding="utf-8"))
        (out / "tx-tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")  # not tokenizer.json: tx import hf reads that as Hugging Face's
        back = f"pnpm tx import hf --dir {out} --out DIR"
    (out / "train_log.json").write_text(json.dumps(train_log) + "\n")
    log(f"wrote {out}: model.safetensors, the tokenizer, train_log.json\nback to tx: {back}")


if __name__ == "__main__":
    main()
