#!/usr/bin/env python3
"""Replays a `thresher train` run in PyTorch, step for step, and compares the weights.

    python3 scripts/parity/replay_train.py prepare DIR   # writes DIR/init.safetensors, DIR/data.safetensors
    thresher train --model gru-classifier --data DIR/data.safetensors --init DIR/init.safetensors \
        --no-shuffle --max-steps 12 --epochs 3 --param hidden_size=6 --param batch_size=4 \
        --param lr=0.01 --param weight_decay=0.01 --checkpoint-dir DIR/out
    python3 scripts/parity/replay_train.py compare DIR   # trains the same 12 steps in torch, compares

The module is the gru-classifier (gru → last layer's final hidden → fc1 → ReLU → fc2), the data a
tensor dataset of variable-length sequences, the loss BCEWithLogitsLoss, the optimizer AdamW with
a constant rate; batches in order (no shuffling). Exit 0 when every weight matches within 1e-4
relative (|a − b| ≤ 1e-4 · max(1, |b|)); prints the largest difference. Needs torch and safetensors.
"""
import pathlib
import sys

import torch
from torch import nn
from safetensors.torch import load_file, save_file

D, H, LAYERS, N, T, BATCH, STEPS, LR, WD = 5, 6, 2, 16, 7, 4, 12, 0.01, 0.01


class GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(D, H, num_layers=LAYERS, batch_first=True)
        self.fc1 = nn.Linear(H, H)
        self.fc2 = nn.Linear(H, 1)

    def forward(self, x, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)
        return self.fc2(torch.relu(self.fc1(h[-1])))


def prepare(folder):
    torch.manual_seed(0)
    model = GRUClassifier()
    x = torch.randn(N, T, D)
    lengths = torch.randint(1, T + 1, (N,))
    for i, n in enumerate(lengths):
        x[i, n:] = 0
    y = (x[:, :, 0].sum(1) > 0).long()
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "init.safetensors"))
    save_file({"x": x, "y": y, "lengths": lengths.float()}, str(folder / "data.safetensors"))


def compare(folder):
    torch.set_num_threads(1)
    data = load_file(str(folder / "data.safetensors"))
    model = GRUClassifier()
    model.load_state_dict(load_file(str(folder / "init.safetensors")))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WD)
    loss_fn = nn.BCEWithLogitsLoss()
    lengths = data["lengths"].long()
    for step in range(STEPS):
        start = (step * BATCH) % N
        index = torch.arange(start, start + BATCH)
        optimizer.zero_grad()
        logits = model(data["x"][index], lengths[index])
        loss_fn(logits, data["y"][index].float().unsqueeze(1)).backward()
        optimizer.step()
    thresher = load_file(str(folder / "out" / "final.safetensors"))
    worst, ok = 0.0, True
    for name, value in model.state_dict().items():
        other = thresher[name]
        error = ((other - value).abs() / value.abs().clamp(min=1)).max().item()
        worst = max(worst, error)
        if error > 1e-4:
            print(f"{name}: relative difference {error:.3g}")
            ok = False
    print(f"{'match' if ok else 'DIFFER'}: largest relative difference {worst:.3g} after {STEPS} steps")
    return ok


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("prepare", "compare"):
        sys.exit(__doc__)
    path = pathlib.Path(sys.argv[2])
    if sys.argv[1] == "prepare":
        prepare(path)
    else:
        sys.exit(0 if compare(path) else 1)
