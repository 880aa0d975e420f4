"""A PyTorch twin of grapheme's model (src/model/network.ts) for bench/train: the same layers,
shapes and parameter count (float32), trained with AdamW, global-norm clipping and the
position-aligned cross-entropy on padded batches of the same sizes. Prints one JSON line:
{"parameters", "examplesPerSecond", "threads"}. Data is random: the cost of a step does not
depend on which letters a batch holds.

usage: train_torch.py D K N V BATCH STEPS THREADS [DROPOUT] [EDGE_TYPES] [SITES]
(DROPOUT, default 0: inverted dropout where grapheme drops;
EDGE_TYPES, default 2: predicted edge types, 1 for chain targets (sequential), 2 with word cliques;
SITES, default all: grapheme's dropout_sites, all (the embeddings and every residual branch) or
transforms (the message-passing and feed-forward branches))"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

d, K, N, V, B, steps, threads = (int(x) for x in sys.argv[1:8])
p_drop = float(sys.argv[8]) if len(sys.argv) > 8 else 0.0
E = int(sys.argv[9]) if len(sys.argv) > 9 else 2  # predicted edge types
sites = sys.argv[10] if len(sys.argv) > 10 else 'all'
if sites not in ('all', 'transforms'):
    sys.exit(f'train_torch.py: SITES must be all or transforms, got {sites!r}')


def drop(x):
    return F.dropout(x, p_drop, training=True) if p_drop > 0 else x


def drop_mixing(x):
    """Dropout on the embeddings and attention outputs, which `transforms` leaves whole."""
    return drop(x) if sites == 'all' else x


torch.set_num_threads(threads)
torch.manual_seed(1)
heads, enc_layers, dec_layers, max_pos = 4, 2, 2, 128
D = 4  # (sequential, clique) x (forward, backward) message blocks


class Norm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gain = torch.nn.Parameter(torch.ones(d))
        self.bias = torch.nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return F.layer_norm(x, (d,), self.gain, self.bias, 1e-5)


class Attention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (torch.nn.Linear(d, d, bias=False) for _ in range(4))
        self.norm = Norm()

    def forward(self, q, kv, mask):
        b, nq, _ = q.shape
        nk = kv.shape[1]
        dh = d // heads
        split = lambda x, n: x.view(b, n, heads, dh).transpose(1, 2)
        Q, Kt, Vv = split(self.q(q), nq), split(self.k(kv), nk), split(self.v(kv), nk)
        s = Q @ Kt.transpose(-1, -2) / math.sqrt(dh)
        if mask is not None:
            s = s + (1 - mask)[:, None, None, :] * -1e9
        out = (s.softmax(-1) @ Vv).transpose(1, 2).reshape(b, nq, d)
        return self.o(out)


class FeedForward(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w1, self.w2 = torch.nn.Linear(d, 2 * d), torch.nn.Linear(2 * d, d)
        self.norm = Norm()

    def forward(self, x):
        return self.w2(F.relu(self.w1(x)))


class Twin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.labels = torch.nn.Parameter(torch.randn(V, d))
        self.positions = torch.nn.Parameter(torch.randn(max_pos + 1, d))
        self.enc_self = torch.nn.ModuleList(torch.nn.Linear(d, d, bias=False) for _ in range(enc_layers))
        self.enc_msg = torch.nn.ParameterList(torch.nn.Parameter(torch.randn(d, D * d) / math.sqrt(d)) for _ in range(enc_layers))
        self.enc_bias = torch.nn.ParameterList(torch.nn.Parameter(torch.zeros(d)) for _ in range(enc_layers))
        self.enc_norm = torch.nn.ModuleList(Norm() for _ in range(enc_layers))
        self.enc_attn, self.enc_ffn = Attention(), FeedForward()
        self.slots = torch.nn.Parameter(0.1 * torch.randn(K, d))
        self.cross = torch.nn.ModuleList(Attention() for _ in range(dec_layers))
        self.self_attn = torch.nn.ModuleList(Attention() for _ in range(dec_layers))
        self.ffn = torch.nn.ModuleList(FeedForward() for _ in range(dec_layers))
        self.exist = torch.nn.Linear(d, 1)
        self.label = torch.nn.Linear(d, V)
        self.rank = torch.nn.Linear(d, K)
        self.wa = torch.nn.ParameterList(torch.nn.Parameter(torch.randn(d, d) * 0.3 / math.sqrt(d)) for _ in range(E))
        self.wb = torch.nn.ParameterList(torch.nn.Parameter(torch.randn(d, d) * 0.3 / math.sqrt(d)) for _ in range(E))
        self.eb = torch.nn.ParameterList(torch.nn.Parameter(torch.full((1,), -2.0)) for _ in range(E))
        # grapheme's edge copy: the input's edges among the slots' seed nodes, one weight per block.
        self.copy = torch.nn.ParameterList(torch.nn.Parameter(torch.zeros(D, 1)) for _ in range(E))

    def forward(self, labels, positions, mask, adjacency):
        b = labels.shape[0]
        x = drop_mixing(self.labels[labels] + self.positions[positions])
        for l in range(enc_layers):
            pre = self.enc_self[l](x) + self.enc_bias[l]
            H = (x @ self.enc_msg[l]).view(b, N, D, d).transpose(1, 2).reshape(b, D * N, d)
            pre = pre + adjacency @ H
            x = self.enc_norm[l](x + drop(F.relu(pre))) * mask[..., None]
        x = self.enc_attn.norm(x + drop_mixing(self.enc_attn(x, x, mask)))
        x = self.enc_ffn.norm(x + drop(self.enc_ffn(x))) * mask[..., None]
        z = (x[:, :K] if N >= K else F.pad(x, (0, 0, 0, K - N))) + self.slots
        for l in range(dec_layers):
            z = self.cross[l].norm(z + drop_mixing(self.cross[l](z, x, mask)))
            z = self.self_attn[l].norm(z + drop_mixing(self.self_attn[l](z, z, None)))
            z = self.ffn[l].norm(z + drop(self.ffn[l](z)))
        exist = torch.sigmoid(self.exist(z)).squeeze(-1)
        label_logits = self.label(z)
        rank_logits = self.rank(z)
        seeds = torch.sign(adjacency)
        seeds = seeds[:, :K] if N >= K else F.pad(seeds, (0, 0, 0, K - N))
        seeds = seeds.view(b, K, D, N)
        seeds = (seeds[..., :K] if N >= K else F.pad(seeds, (0, K - N))).permute(0, 1, 3, 2)
        edges = torch.stack([torch.sigmoid((z @ self.wa[e]) @ (z @ self.wb[e]).transpose(1, 2) / math.sqrt(d) + self.eb[e] + 32 * (seeds @ self.copy[e]).squeeze(-1)) for e in range(E)], 1)
        return exist, label_logits, rank_logits, edges * (1 - torch.eye(K))


model = Twin()
parameters = sum(p.numel() for p in model.parameters())
decay = [p for n, p in model.named_parameters() if p.dim() == 2 and not n.startswith(('labels', 'positions', 'slots', 'copy'))]
rest = [p for n, p in model.named_parameters() if not (p.dim() == 2 and not n.startswith(('labels', 'positions', 'slots', 'copy')))]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': rest, 'weight_decay': 0.0}], lr=1e-3)


def batch():
    lengths = torch.randint(max(1, N // 2), N + 1, (B,))
    mask = (torch.arange(N)[None, :] < lengths[:, None]).float()
    labels = torch.randint(1, V, (B, N)) * mask.long()
    positions = torch.where(mask > 0, torch.arange(N)[None, :].expand(B, N), torch.full((B, N), max_pos))
    adjacency = torch.zeros(B, N, D * N)
    for i in range(N - 1):
        adjacency[:, i, i + 1] = mask[:, i + 1]
        adjacency[:, i + 1, N + i] = mask[:, i + 1]
    target_len = torch.clamp(lengths, max=K)
    target = torch.randint(1, V, (B, K))
    seq = torch.zeros(B, E, K, K)
    for i in range(K - 1):
        seq[:, 0, i, i + 1] = (i + 1 < target_len).float()
    return labels, positions, mask, adjacency, target, target_len, seq


def step(data):
    labels, positions, mask, adjacency, target, target_len, seq = data
    exist, label_logits, _, edges = model(labels, positions, mask, adjacency)
    present = (torch.arange(K)[None, :] < target_len[:, None]).float()
    ce = (F.cross_entropy(label_logits.reshape(-1, V), target.reshape(-1), reduction='none').view(B, K) * present).sum(1)
    ce = ce + F.binary_cross_entropy(exist, present, reduction='none').sum(1)
    ce = ce + F.binary_cross_entropy(edges.clamp(1e-7, 1 - 1e-7), seq, reduction='none').sum((1, 2, 3))
    loss = ce.mean()
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


data = [batch() for _ in range(8)]
for s in range(5):
    step(data[s % 8])
t0 = time.perf_counter()
for s in range(steps):
    step(data[s % 8])
seconds = time.perf_counter() - t0
print(json.dumps({"parameters": parameters, "examplesPerSecond": steps * B / seconds, "threads": threads}))
