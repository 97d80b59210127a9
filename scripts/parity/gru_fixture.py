#!/usr/bin/env python3
"""Writes Tests/ThresherEngineTests/Fixtures/gru_parity.json: PyTorch nn.GRU reference values.

Each case: a batch-first 2-layer nn.GRU with float32 weights from a fixed seed, an input, an
initial hidden state, per-example lengths (run through pack_padded_sequence /
pad_packed_sequence, so padded outputs are zero and the final hidden is each example's last
real step), and the gradients of loss = sum(w_out * output) + sum(w_final * h_n) with respect
to every parameter, the input and the initial hidden state. All tensors are flattened in
row-major order. Needs torch (pip install "torch==2.13.0+cpu"); run from the repository root:

    python3 scripts/parity/gru_fixture.py
"""
import json
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/ThresherEngineTests/Fixtures/gru_parity.json"


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(seed, batch, steps, input_size, hidden, layers, lengths):
    torch.manual_seed(seed)
    gru = torch.nn.GRU(input_size, hidden, num_layers=layers, batch_first=True)
    x = torch.randn(batch, steps, input_size, requires_grad=True)
    h0 = (0.5 * torch.randn(layers, batch, hidden)).requires_grad_(True)
    w_out = torch.randn(batch, steps, hidden)
    w_final = torch.randn(layers, batch, hidden)
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    out_packed, h_n = gru(packed, h0)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=True, total_length=steps)
    loss = (out * w_out).sum() + (h_n * w_final).sum()
    loss.backward()
    return {
        "batch": batch, "steps": steps, "input_size": input_size, "hidden_size": hidden,
        "num_layers": layers, "lengths": lengths,
        "params": {name: flat(p) for name, p in gru.named_parameters()},
        "input": flat(x), "h0": flat(h0), "w_out": flat(w_out), "w_final": flat(w_final),
        "output": flat(out), "final_hidden": flat(h_n),
        "grads": {name: flat(p.grad) for name, p in gru.named_parameters()},
        "d_input": flat(x.grad), "d_h0": flat(h0.grad),
    }


def main():
    torch.set_num_threads(1)
    cases = [
        case(seed=1, batch=3, steps=5, input_size=4, hidden=6, layers=2, lengths=[5, 3, 2]),
        case(seed=2, batch=2, steps=7, input_size=3, hidden=5, layers=2, lengths=[7, 7]),
    ]
    doc = {"torch_version": torch.__version__, "cases": cases}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
