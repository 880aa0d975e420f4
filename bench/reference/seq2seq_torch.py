"""A standard PyTorch transformer sequence-to-sequence model, the baseline grapheme's real-text
tasks are compared with (bench/seq2seq.ts runs it on the same split as grapheme).

Characters in, characters out (Unicode code points; the tasks here have one code point per
grapheme), teacher forcing with cross-entropy, greedy decoding, exact match on validation.

usage: seq2seq_torch.py TRAIN.jsonl VAL.jsonl SEED EPOCHS D LAYERS DROPOUT THREADS
prints one JSON line per epoch ({"epoch", "train", "val", "exact"}) and a final summary line.
"""
import json
import math
import sys
import time

import torch
from torch import nn


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Seq2Seq(nn.Module):
    def __init__(self, vocab, d, layers, dropout, max_len):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        # Encoder and decoder built separately: nn.Transformer's evaluation fast path trims the
        # encoder's padding and then rejects the padding mask it was given (PyTorch 1.13).
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, 4, 4 * d, dropout, batch_first=True), layers, enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(d, 4, 4 * d, dropout, batch_first=True), layers)
        self.out = nn.Linear(d, vocab)
        self.scale = math.sqrt(d)

    def embed_seq(self, x):
        positions = torch.arange(x.shape[1], device=x.device)
        return self.embed(x) * self.scale + self.pos(positions)[None]

    def forward(self, src, tgt_in):
        n = tgt_in.shape[1]
        causal = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
        memory = self.encoder(self.embed_seq(src), src_key_padding_mask=src == PAD)
        h = self.decoder(self.embed_seq(tgt_in), memory, tgt_mask=causal, tgt_key_padding_mask=tgt_in == PAD,
                         memory_key_padding_mask=src == PAD)
        return self.out(h)


PAD, BOS, EOS = 0, 1, 2


def main():
    train_path, val_path, seed, epochs, d, layers, dropout, threads = sys.argv[1:9]
    torch.manual_seed(int(seed))
    torch.set_num_threads(int(threads))
    train, val = read(train_path), read(val_path)
    chars = sorted({c for r in train + val for c in r["input"] + r["target"]})
    index = {c: i + 3 for i, c in enumerate(chars)}
    max_len = max(len(r[k]) for r in train + val for k in ("input", "target")) + 2

    def encode(s, bos):
        ids = ([BOS] if bos else []) + [index[c] for c in s] + [EOS]
        return ids + [PAD] * (max_len - len(ids))

    def tensors(rows):
        return (torch.tensor([encode(r["input"], False) for r in rows]),
                torch.tensor([encode(r["target"], True) for r in rows]))

    src_tr, tgt_tr = tensors(train)
    src_va, tgt_va = tensors(val)
    model = Seq2Seq(len(chars) + 3, int(d), int(layers), float(dropout), max_len)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    steps = int(epochs) * math.ceil(len(train) / 32)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=steps, pct_start=0.1)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    reverse = {i: c for c, i in index.items()}

    def greedy(src):
        model.eval()
        with torch.no_grad():
            out = torch.full((src.shape[0], 1), BOS)
            for _ in range(max_len - 1):
                logits = model(src, out)
                out = torch.cat([out, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        texts = []
        for row in out[:, 1:].tolist():
            text = []
            for t in row:
                if t == EOS or t == PAD:
                    break
                text.append(reverse.get(t, ""))
            texts.append("".join(text))
        return texts

    started = time.time()
    for epoch in range(1, int(epochs) + 1):
        model.train()
        order = torch.randperm(len(train))
        total = 0.0
        for b in range(0, len(train), 32):
            idx = order[b:b + 32]
            logits = model(src_tr[idx], tgt_tr[idx][:, :-1])
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_tr[idx][:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            logits = model(src_va, tgt_va[:, :-1])
            val_loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_va[:, 1:].reshape(-1)).item()
        predicted = greedy(src_va)
        exact = sum(p == r["target"] for p, r in zip(predicted, val)) / len(val)
        print(json.dumps({"epoch": epoch, "train": total / len(train), "val": val_loss, "exact": exact}), flush=True)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"exact": exact, "parameters": params, "seconds": time.time() - started}))


if __name__ == "__main__":
    main()
