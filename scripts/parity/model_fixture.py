#!/usr/bin/env python3
"""Writes Tests/ThresherEngineTests/Fixtures/model_parity.safetensors: PyTorch reference values for
nn.Linear, the losses (with class weights, label smoothing, ignore_index, pos_weight, clamped logs)
and 20 training steps of the `gru-classifier` model. Checked by ModelParityTests.swift.

All tensors are float32 unless noted; integer tensors (targets, lengths) are int64. Settings are
in the safetensors metadata.

linear.*      nn.Linear(7, 5) (seed 11) on an input [2, 3, 7]: weight, bias, input, w_out [2, 3, 5],
              output, and the gradients of sum(w_out * output): grad.weight, grad.bias, grad.input.
ce.*          CrossEntropyLoss(weight=[2, 1.2, 1], label_smoothing=0.2) on logits [6, 3]:
              logits, targets (int64), loss (0-d), grad (dloss/dlogits).
ce_ignore.*   the same with ignore_index=-100; two of the six targets are -100.
bcel.*        BCEWithLogitsLoss(pos_weight=[3, 0.5, 1]) on logits [4, 3] (some large, ±30, ±90),
              targets 0, 1 and soft: logits, targets, loss, grad.
bce.*         BCELoss on probabilities [12] incl. 1e-7, 1e-4, 0.9999, 1 - 2^-24, targets 0/1/soft:
              probabilities, targets, loss, grad.
bce_clamp.*   BCELoss where PyTorch clamps: p = 0 and p = 1 against both targets (log clamped
              at -100, gradient denominator at 1e-12).
bce_small.*   BCELoss on p in [1e-7, 3e-5] with targets 0 (loss ~ mean p; PyTorch takes log1p(-p)).
gru.*         the gru-classifier: a module with attributes gru = nn.GRU(5, 6, num_layers=2,
              batch_first=True, dropout=0), fc1 = Linear(6, 6), fc2 = Linear(6, 1); forward =
              pack_padded_sequence(x, lengths, enforce_sorted=False) -> GRU -> h_n[-1] -> fc1 ->
              relu -> fc2 (logit [B, 1]); BCEWithLogitsLoss; AdamW(lr=1e-2, weight_decay=0.01)
              with LinearLR(start_factor=0.1, total_iters=5) stepped after each optimizer step.
              20 steps, zero_grad / forward / backward / step / scheduler.step, on 20 fixed
              batches (B=4, T=7, lengths 1..7, padded steps hold random values that must not matter).
              gru.init.<name> (the initial state_dict, names as named_parameters(): gru.weight_ih_l0,
              ..., fc1.weight, ..., fc2.bias), gru.x [20, 4, 7, 5], gru.lengths [20, 4] (int64),
              gru.y [20, 4, 1], gru.losses [20] (the loss of each step, before its update),
              gru.step0.logits [4, 1] and gru.step0.grad.<name> (first step, for diagnosis),
              gru.final.<name> (the state_dict after 20 steps).

Needs torch and safetensors (pip install "torch==2.13.0+cpu" safetensors numpy); single-threaded,
deterministic. From the repository root:

    python3 scripts/parity/model_fixture.py            # rewrite the fixture
    python3 scripts/parity/model_fixture.py --check    # compare with the committed file, write nothing
"""
import argparse
import pathlib
import sys

import torch
from torch import nn
from safetensors.torch import save_file

from fixture_check import check

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/ThresherEngineTests/Fixtures/model_parity.safetensors"

CE_WEIGHT = [2.0, 1.2, 1.0]
CE_SMOOTHING = 0.2
POS_WEIGHT = [3.0, 0.5, 1.0]
D, H, LAYERS, B, T, STEPS = 5, 6, 2, 4, 7, 20
LR, WEIGHT_DECAY, START_FACTOR, WARMUP = 1e-2, 0.01, 0.1, 5


def linear_case(out):
    torch.manual_seed(11)
    layer = nn.Linear(7, 5)
    x = torch.randn(2, 3, 7, requires_grad=True)
    w_out = torch.randn(2, 3, 5)
    y = layer(x)
    (w_out * y).sum().backward()
    out.update({"linear.weight": layer.weight, "linear.bias": layer.bias, "linear.input": x,
                "linear.w_out": w_out, "linear.output": y, "linear.grad.weight": layer.weight.grad,
                "linear.grad.bias": layer.bias.grad, "linear.grad.input": x.grad})


def loss_case(out, prefix, loss_fn, inputs, targets, input_key="logits"):
    inputs = inputs.clone().requires_grad_(True)
    loss = loss_fn(inputs, targets)
    loss.backward()
    out.update({f"{prefix}.{input_key}": inputs, f"{prefix}.targets": targets,
                f"{prefix}.loss": loss, f"{prefix}.grad": inputs.grad})


def loss_cases(out):
    torch.manual_seed(12)
    logits = 2 * torch.randn(6, 3)
    targets = torch.tensor([0, 2, 1, 1, 0, 2])
    weight = torch.tensor(CE_WEIGHT)
    loss_case(out, "ce", nn.CrossEntropyLoss(weight=weight, label_smoothing=CE_SMOOTHING), logits, targets)
    ignored = torch.tensor([0, -100, 1, 2, -100, 2])
    loss_case(out, "ce_ignore", nn.CrossEntropyLoss(weight=weight, label_smoothing=CE_SMOOTHING, ignore_index=-100),
              logits, ignored)

    bcel_logits = torch.tensor([[-1.5, 0.3, 2.0], [30.0, -30.0, 0.0], [-90.0, 90.0, 0.7], [4.0, -0.2, -6.0]])
    bcel_targets = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.25], [1.0, 0.0, 0.9], [1.0, 1.0, 0.0]])
    loss_case(out, "bcel", nn.BCEWithLogitsLoss(pos_weight=torch.tensor(POS_WEIGHT)), bcel_logits, bcel_targets)

    one_minus_ulp = 1.0 - 2.0 ** -24  # the largest float32 below 1
    probabilities = torch.tensor([1e-7, 1e-4, 0.02, 0.3, 0.5, 0.81, 0.9999, one_minus_ulp,
                                  1e-7, 0.9999, 0.25, 0.6], dtype=torch.float32)
    targets = torch.tensor([0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.3, 0.7])
    loss_case(out, "bce", nn.BCELoss(), probabilities, targets, input_key="probabilities")
    loss_case(out, "bce_clamp", nn.BCELoss(), torch.tensor([0.0, 0.0, 1.0, 1.0, 0.5]),
              torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0]), input_key="probabilities")
    # Confident, correct negatives: the loss is -log(1 - p) ~ p, which PyTorch computes as -log1p(-p).
    loss_case(out, "bce_small", nn.BCELoss(), torch.tensor([1e-7, 3e-7, 1e-6, 4e-6, 1e-5, 3e-5]),
              torch.zeros(6), input_key="probabilities")


class GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(D, H, num_layers=LAYERS, batch_first=True, dropout=0.0)
        self.fc1 = nn.Linear(H, H)
        self.fc2 = nn.Linear(H, 1)

    def forward(self, x, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.gru(packed)  # [layers, B, H], in the original batch order
        return self.fc2(torch.relu(self.fc1(h_n[-1])))


def gru_case(out):
    torch.manual_seed(13)
    model = GRUClassifier()
    out.update({f"gru.init.{name}": p.detach().clone() for name, p in model.named_parameters()})
    xs = torch.randn(STEPS, B, T, D)
    lengths = torch.randint(1, T + 1, (STEPS, B))
    lengths[0] = torch.tensor([T, 1, 4, 2])  # both extremes in the first batch
    lengths[7] = torch.tensor([1, 1, T, T])
    # A learnable target: does the first feature sum to more than 0 over the real steps?
    mask = (torch.arange(T)[None, None, :] < lengths[:, :, None]).float()
    ys = ((xs[..., 0] * mask).sum(-1, keepdim=True) > 0).float()

    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=START_FACTOR, total_iters=WARMUP)
    loss_fn = nn.BCEWithLogitsLoss()
    losses = []
    for step in range(STEPS):
        optimizer.zero_grad()
        logits = model(xs[step], lengths[step])
        loss = loss_fn(logits, ys[step])
        loss.backward()
        if step == 0:
            out["gru.step0.logits"] = logits
            out.update({f"gru.step0.grad.{name}": p.grad.clone() for name, p in model.named_parameters()})
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    out.update({"gru.x": xs, "gru.lengths": lengths, "gru.y": ys,
                "gru.losses": torch.tensor(losses, dtype=torch.float32)})
    out.update({f"gru.final.{name}": p.detach().clone() for name, p in model.named_parameters()})


def build():
    out = {}
    linear_case(out)
    loss_cases(out)
    gru_case(out)
    tensors = {k: v.detach().clone().contiguous() for k, v in out.items()}
    metadata = {
        "generator": f"torch {torch.__version__}",
        "linear": "nn.Linear(7, 5), seed 11, input [2, 3, 7], functional sum(w_out * output)",
        "ce": f"CrossEntropyLoss(weight={CE_WEIGHT}, label_smoothing={CE_SMOOTHING}), mean",
        "ce_ignore": f"CrossEntropyLoss(weight={CE_WEIGHT}, label_smoothing={CE_SMOOTHING}, ignore_index=-100), mean",
        "bcel": f"BCEWithLogitsLoss(pos_weight={POS_WEIGHT}), mean",
        "bce": "BCELoss(), mean",
        "bce_clamp": "BCELoss(), mean",
        "bce_small": "BCELoss(), mean",
        "gru": (f"gru-classifier GRU(input {D}, hidden {H}, layers {LAYERS}, batch_first, dropout 0) -> h_n[-1] "
                f"-> Linear({H},{H}) -> relu -> Linear({H},1); BCEWithLogitsLoss; AdamW(lr={LR}, "
                f"weight_decay={WEIGHT_DECAY}); LinearLR(start_factor={START_FACTOR}, total_iters={WARMUP}); "
                f"{STEPS} steps, batch {B}, T {T}, seed 13"),
    }
    return tensors, metadata


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed fixture, write nothing")
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    tensors, metadata = build()
    if args.check:
        sys.exit(0 if check(tensors, args.out) else 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(args.out), metadata=metadata)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
