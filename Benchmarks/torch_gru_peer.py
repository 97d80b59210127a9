#!/usr/bin/env python3
"""PyTorch peer for `thresher bench engine`: the W1 training step, timed.

The module is the `gru-classifier` model of Thresher's engine: nn.GRU(input, H, layers,
batch_first=True) -> the last layer's final hidden state -> Linear(H, H) -> ReLU -> Linear(H, 1),
trained with BCEWithLogitsLoss and AdamW (PyTorch's defaults: lr 1e-3, weight decay 0.01).
One training step = zero_grad, forward, loss, backward, optimizer step.

The process runs with torch.set_flush_denormal(True), as Thresher's GRU flushes subnormals;
without it the backward pass through 304 steps slows down by an order of magnitude (see
docs/engine.md). For each hidden size and thread count (torch.set_num_threads) it runs WARMUP
untimed steps, then STEPS timed steps, and reports the median and every sample in milliseconds.

Standard library and torch only. Prints one JSON object on stdout:
  {"torch_version": "...", "flush_denormal": true, "results": {"h256_t1": {"ms": ..., "samples_ms": [...]}, ...}}
Exit status 3 when torch cannot be imported (the caller reports "PyTorch is not installed").

With --serve (what `thresher bench engine` uses) it instead prints one JSON line
{"torch_version": ..., "flush_denormal": true} and then answers commands on stdin, one per line,
each with one JSON line, so the caller can alternate Thresher's steps with PyTorch's:
  step H T N   -> {"samples_ms": [...]}   N training steps at hidden H with T threads
                  (the model and optimizer for H are built on first use and kept)
EOF ends it.
"""

import argparse
import json
import statistics
import sys
import time


def int_list(text):
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seq", type=int, default=304)
    parser.add_argument("--input", type=int, default=300)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int_list, default=[128, 256, 512])
    parser.add_argument("--threads", type=int_list, default=[1, 2])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per configuration")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per configuration")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--serve", action="store_true", help="answer step commands on stdin (see above)")
    args = parser.parse_args()
    if min(args.batch, args.seq, args.input, args.layers, args.steps) < 1 or args.warmup < 0:
        parser.error("sizes and --steps must be positive, --warmup non-negative")

    try:
        import torch
        from torch import nn
    except ImportError as error:
        print(json.dumps({"error": f"torch not importable: {error}"}))
        return 3

    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)

    class GRUClassifier(nn.Module):
        def __init__(self, input_size, hidden, layers):
            super().__init__()
            self.gru = nn.GRU(input_size, hidden, layers, batch_first=True)
            self.fc1 = nn.Linear(hidden, hidden)
            self.fc2 = nn.Linear(hidden, 1)

        def forward(self, x):
            _, h_n = self.gru(x)
            return self.fc2(torch.relu(self.fc1(h_n[-1])))

    x = torch.rand(args.batch, args.seq, args.input) * 2 - 1
    y = torch.randint(0, 2, (args.batch, 1)).float()
    loss_fn = nn.BCEWithLogitsLoss()

    trainers = {}

    def trainer(hidden):
        if hidden not in trainers:
            model = GRUClassifier(args.input, hidden, args.layers)
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

            def step():
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()

            trainers.clear()  # one model at a time keeps memory bounded
            trainers[hidden] = step
        return trainers[hidden]

    def timed(hidden, threads, count):
        torch.set_num_threads(threads)
        step = trainer(hidden)
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            step()
            samples.append((time.perf_counter() - start) * 1000.0)
        return samples

    if args.serve:
        print(json.dumps({"torch_version": torch.__version__, "flush_denormal": True}), flush=True)
        for line in sys.stdin:
            parts = line.split()
            if len(parts) != 4 or parts[0] != "step" or not all(p.isdigit() and int(p) > 0 for p in parts[1:]):
                print(json.dumps({"error": f"bad command {line.strip()!r}"}), flush=True)
                continue
            hidden, threads, count = (int(p) for p in parts[1:])
            print(json.dumps({"samples_ms": timed(hidden, threads, count)}), flush=True)
        return 0

    results = {}
    for hidden in args.hidden:
        for threads in args.threads:
            timed(hidden, threads, args.warmup)
            samples = timed(hidden, threads, args.steps)
            results[f"h{hidden}_t{threads}"] = {"ms": statistics.median(samples), "samples_ms": samples}

    print(json.dumps({
        "torch_version": torch.__version__,
        "flush_denormal": True,
        "results": results,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
