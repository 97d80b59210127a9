"""Fit y = w*x + b by minibatch gradient descent: a Thresher trial program in plain Python.

It follows docs/trial-programs.md: metrics lines go to THRESHER_METRICS_FILE, a checkpoint
step-<N>.safetensors (with a step-<N>.json sidecar) lands in THRESHER_CHECKPOINT_DIR before the
metrics line of step N, THRESHER_RESUME_FROM continues a run, and SIGTERM stops it cleanly.
Only the standard library is used.
"""
import argparse
import json
import os
import random
import signal
import struct
import sys
import time

stop_requested = False


def on_sigterm(signum, frame):
    # Only note it: a checkpoint being written is finished before the loop looks at the flag.
    global stop_requested
    stop_requested = True


def make_data(seed):
    rng = random.Random(seed)
    xs = [rng.uniform(-1.0, 1.0) for _ in range(64)]
    ys = [3.0 * x + 2.0 + rng.gauss(0.0, 0.1) for x in xs]
    pairs = list(zip(xs, ys))
    return pairs[:48], pairs[48:]


def mse(w, b, data):
    return sum((w * x + b - y) ** 2 for x, y in data) / len(data)


def write_atomically(path, data):
    # A name starting with "." is ignored by the worker until the rename makes it whole.
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, "." + name + ".tmp")
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def save_checkpoint(folder, step, w, b, meta):
    # safetensors: 8-byte little-endian header size, a JSON header, then the raw tensor bytes.
    header = {
        "__metadata__": {"step": str(step)},
        "w": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]},
        "b": {"dtype": "F64", "shape": [1], "data_offsets": [8, 16]},
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    blob = struct.pack("<Q", len(text)) + text + struct.pack("<2d", w, b)
    # The sidecar first, so it is there whenever the checkpoint is.
    write_atomically(os.path.join(folder, "step-%d.json" % step), json.dumps(meta).encode())
    write_atomically(os.path.join(folder, "step-%d.safetensors" % step), blob)


def load_checkpoint(path):
    with open(path, "rb") as f:
        blob = f.read()
    (size,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8:8 + size])

    def scalar(name):
        start = header[name]["data_offsets"][0]
        return struct.unpack_from("<d", blob, 8 + size + start)[0]

    return int(header["__metadata__"]["step"]), scalar("w"), scalar("b")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--steps", type=int, default=60)
    # Both spellings: a sweep's ${args} writes parameter names as the sweep file spells them.
    parser.add_argument("--eval-every", "--eval_every", type=int, default=3)
    parser.add_argument("--step-delay", "--step_delay", type=float, default=0.0, help="seconds to sleep after each step")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_sigterm)

    train, val = make_data(int(os.environ.get("THRESHER_SEED", "0")))
    batches = [train[i:i + 16] for i in range(0, len(train), 16)]
    checkpoint_dir = os.environ.get("THRESHER_CHECKPOINT_DIR", "checkpoints")
    os.makedirs(checkpoint_dir, exist_ok=True)
    metrics = os.open(os.environ.get("THRESHER_METRICS_FILE", "metrics.jsonl"),
                      os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    step, w, b = 0, 0.0, 0.0
    resume_from = os.environ.get("THRESHER_RESUME_FROM")
    if resume_from:
        step, w, b = load_checkpoint(resume_from)
        print("resumed from step %d" % step, file=sys.stderr)
    evaluated = step

    def evaluate():
        values = {"step": step, "epoch": step / len(batches),
                  "train_loss": mse(w, b, train), "val_loss": mse(w, b, val), "w": w, "b": b}
        save_checkpoint(checkpoint_dir, step, w, b, {"step": step, "lr": args.lr, "val_loss": values["val_loss"]})
        # One write of one whole line, after the checkpoint: the worker ties them by step.
        os.write(metrics, (json.dumps(values) + "\n").encode())

    while step < args.steps and not stop_requested:
        batch = batches[step % len(batches)]
        grad_w = sum(2.0 * (w * x + b - y) * x for x, y in batch) / len(batch)
        grad_b = sum(2.0 * (w * x + b - y) for x, y in batch) / len(batch)
        w -= args.lr * grad_w
        b -= args.lr * grad_b
        step += 1
        if step % args.eval_every == 0 or step == args.steps:
            evaluate()
            evaluated = step
        time.sleep(args.step_delay)

    if stop_requested:
        if evaluated != step:
            evaluate()  # leave a checkpoint of the last step to resume from
        print("stopped by SIGTERM at step %d" % step, file=sys.stderr)
        sys.exit(143)
    print("done: w=%.4f b=%.4f" % (w, b))


if __name__ == "__main__":
    main()
