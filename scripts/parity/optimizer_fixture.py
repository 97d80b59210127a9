#!/usr/bin/env python3
"""Writes Tests/ThresherEngineTests/Fixtures/optimizer_parity.safetensors: PyTorch optimizer reference.

Twenty steps of a training loop on given gradients, no model: clip_grad_norm_(params, 1.0), then
optimizer.step(), then scheduler.step(), for

  * AdamW(lr=1e-2, weight_decay=0.01, fused=True) with LinearLR(start_factor=0.1, end_factor=1.0, total_iters=5)
  * SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3) with CosineAnnealingLR(T_max=20, eta_min=1e-3)

Tensors (float32): init.w [6, 4] and init.b [4] (torch.manual_seed(0), randn), grad.NN.w / grad.NN.b
for NN = 00..19 (0.5 * randn, drawn in that order after the initial values), norms [20] (the total
norm clip_grad_norm_ returned before clipping, per step; the same for both runs), adamw.w, adamw.b,
adamw.w.exp_avg, adamw.w.exp_avg_sq (after step 20), sgd.w, sgd.b. The settings are in the
safetensors metadata. Checked by OptimizerTests.testTwentyStepsWithClippingAndSchedulesMatchPyTorch.

Needs torch and safetensors (pip install "torch==2.13.0+cpu" safetensors numpy). From the
repository root:

    python3 scripts/parity/optimizer_fixture.py            # rewrite the fixture
    python3 scripts/parity/optimizer_fixture.py --check    # compare with the committed file, write nothing

The committed file was produced before this script was committed; --check reproduces every
tensor bit for bit with torch 2.13.0+cpu. It needs fused=True: the default (for-loop) AdamW
ends one element of adamw.w one float32 ulp (1.2e-7) away, the fused CPU kernel rounds its
update differently; both are PyTorch's AdamW. The metadata key order of a safetensors file is
not stable, so the file bytes may differ after a rewrite even when the tensors do not.
"""
import argparse
import pathlib
import sys

import torch
from safetensors.torch import save_file

from fixture_check import check

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/ThresherEngineTests/Fixtures/optimizer_parity.safetensors"
STEPS = 20


def train(init_w, init_b, grads, make_optimizer, make_scheduler):
    w = init_w.clone().requires_grad_(True)
    b = init_b.clone().requires_grad_(True)
    optimizer = make_optimizer([w, b])
    scheduler = make_scheduler(optimizer)
    norms = []
    for gw, gb in grads:
        w.grad = gw.clone()
        b.grad = gb.clone()
        norms.append(float(torch.nn.utils.clip_grad_norm_([w, b], 1.0)))
        optimizer.step()
        scheduler.step()
    return w.detach(), b.detach(), optimizer, torch.tensor(norms, dtype=torch.float32)


def build():
    torch.manual_seed(0)
    init_w = torch.randn(6, 4)
    init_b = torch.randn(4)
    grads = [(0.5 * torch.randn(6, 4), 0.5 * torch.randn(4)) for _ in range(STEPS)]

    aw, ab, adam, norms = train(
        init_w, init_b, grads,
        lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.01, fused=True),
        lambda opt: torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=5))
    sw, sb, _, sgd_norms = train(
        init_w, init_b, grads,
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS, eta_min=1e-3))
    assert torch.equal(norms, sgd_norms)

    state = adam.state[next(iter(adam.state))]  # the state of w, the first parameter
    tensors = {"init.w": init_w, "init.b": init_b, "norms": norms,
               "adamw.w": aw, "adamw.b": ab,
               "adamw.w.exp_avg": state["exp_avg"], "adamw.w.exp_avg_sq": state["exp_avg_sq"],
               "sgd.w": sw, "sgd.b": sb}
    for i, (gw, gb) in enumerate(grads):
        tensors[f"grad.{i:02d}.w"] = gw
        tensors[f"grad.{i:02d}.b"] = gb
    metadata = {
        "generator": f"torch {torch.__version__}",
        "adamw": "lr=1e-2 wd=0.01, LinearLR(0.1, 1.0, 5), clip 1.0",
        "sgd": "lr=0.05 momentum=0.9 nesterov wd=1e-3, CosineAnnealingLR(T_max=20, eta_min=1e-3), clip 1.0",
    }
    return {k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}, metadata


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed fixture, write nothing")
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    tensors, metadata = build()
    if args.check:
        sys.exit(0 if check(tensors, args.out, tolerance=1e-7) else 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(args.out), metadata=metadata)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
