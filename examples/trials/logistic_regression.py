"""Logistic regression by minibatch gradient descent on the breast-cancer table: a Thresher trial
program in plain Python (standard library only), run by examples/command-trial.yaml.

It follows docs/trial-programs.md: after every epoch it writes a checkpoint
step-<epoch>.safetensors (with a step-<epoch>.json sidecar) into THRESHER_CHECKPOINT_DIR, then
one metrics line to THRESHER_METRICS_FILE; THRESHER_RESUME_FROM continues a run exactly (the
weights are in the checkpoint, and each epoch's batch order depends only on the seed and the
epoch); SIGTERM stops it after the current epoch's checkpoint.

Data: scikit-learn's copy of UCI Breast Cancer Wisconsin (569 rows, 30 features, class last),
split 70/15/15 by THRESHER_SEED, features standardised with the training split's statistics.
"""
import argparse
import json
import math
import os
import random
import signal
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "digits", "breast_cancer.csv"))

stop_requested = False


def on_sigterm(signum, frame):
    # Only note it: the epoch in progress ends with its checkpoint before the loop looks.
    global stop_requested
    stop_requested = True


def load_table(path):
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            fields = line.strip().split(",")
            if number == 1 and not _is_number(fields[-1]):
                continue  # scikit-learn's header: "569,30,malignant,benign"
            if len(fields) < 2:
                continue
            try:
                values = [float(x) for x in fields]
            except ValueError:
                sys.exit("%s:%d: not a row of numbers" % (path, number))
            rows.append((values[:-1], int(values[-1])))
    if len(rows) < 20:
        sys.exit("%s: %d rows; at least 20 are needed" % (path, len(rows)))
    return rows


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def split_and_standardise(rows, seed):
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_val = n_test = len(rows) * 15 // 100
    train = [rows[i] for i in order[n_val + n_test:]]
    val = [rows[i] for i in order[:n_val]]
    test = [rows[i] for i in order[n_val:n_val + n_test]]
    width = len(rows[0][0])
    mean = [sum(x[j] for x, _ in train) / len(train) for j in range(width)]
    std = [math.sqrt(sum((x[j] - mean[j]) ** 2 for x, _ in train) / len(train)) or 1.0 for j in range(width)]

    def scale(part):
        return [([(x[j] - mean[j]) / std[j] for j in range(width)], y) for x, y in part]

    return scale(train), scale(val), scale(test)


def predict(weights, x):
    z = weights[-1] + sum(w * v for w, v in zip(weights, x))
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def evaluate(weights, part):
    loss = correct = 0
    for x, y in part:
        p = min(max(predict(weights, x), 1e-12), 1.0 - 1e-12)
        loss -= math.log(p) if y == 1 else math.log(1.0 - p)
        correct += int((p >= 0.5) == (y == 1))
    return loss / len(part), correct / len(part)


def write_atomically(path, data):
    # A name starting with "." is ignored by the worker until the rename makes it whole.
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, "." + name + ".tmp")
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def save_checkpoint(folder, epoch, weights, meta):
    # safetensors: 8-byte little-endian header size, a JSON header, then the raw tensor bytes.
    n = len(weights) - 1
    header = {
        "__metadata__": {"epoch": str(epoch)},
        "weight": {"dtype": "F64", "shape": [1, n], "data_offsets": [0, 8 * n]},
        "bias": {"dtype": "F64", "shape": [1], "data_offsets": [8 * n, 8 * n + 8]},
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    blob = struct.pack("<Q", len(text)) + text + struct.pack("<%dd" % len(weights), *weights)
    write_atomically(os.path.join(folder, "step-%d.json" % epoch), json.dumps(meta).encode())
    write_atomically(os.path.join(folder, "step-%d.safetensors" % epoch), blob)


def load_checkpoint(path):
    with open(path, "rb") as f:
        blob = f.read()
    (size,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8:8 + size])
    n = header["weight"]["shape"][1]
    values = struct.unpack_from("<%dd" % (n + 1), blob, 8 + size)
    return int(header["__metadata__"]["epoch"]), list(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=20)
    # Both spellings: a sweep's ${args} writes parameter names as the sweep file spells them.
    parser.add_argument("--l2", type=float, default=0.0, help="L2 penalty on the weights (not the bias)")
    parser.add_argument("--batch-size", "--batch_size", type=int, default=32)
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args()
    if args.lr <= 0 or args.epochs < 1 or args.batch_size < 1 or args.l2 < 0:
        sys.exit("--lr must be > 0, --epochs and --batch-size >= 1, --l2 >= 0")
    signal.signal(signal.SIGTERM, on_sigterm)

    seed = int(os.environ.get("THRESHER_SEED", "0"))
    train, val, test = split_and_standardise(load_table(args.data), seed)
    checkpoint_dir = os.environ.get("THRESHER_CHECKPOINT_DIR", "checkpoints")
    os.makedirs(checkpoint_dir, exist_ok=True)
    metrics = os.open(os.environ.get("THRESHER_METRICS_FILE", "metrics.jsonl"),
                      os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    epoch, weights = 0, [0.0] * (len(train[0][0]) + 1)
    resume_from = os.environ.get("THRESHER_RESUME_FROM")
    if resume_from:
        epoch, weights = load_checkpoint(resume_from)
        print("resumed from epoch %d" % epoch, file=sys.stderr)

    while epoch < args.epochs and not stop_requested:
        order = list(range(len(train)))
        random.Random(seed * 1_000_003 + epoch).shuffle(order)  # depends on (seed, epoch) only: resumable
        for start in range(0, len(order), args.batch_size):
            batch = [train[i] for i in order[start:start + args.batch_size]]
            grad = [0.0] * len(weights)
            for x, y in batch:
                error = predict(weights, x) - y
                for j, v in enumerate(x):
                    grad[j] += error * v
                grad[-1] += error
            for j in range(len(weights)):
                penalty = args.l2 * weights[j] if j < len(weights) - 1 else 0.0
                weights[j] -= args.lr * (grad[j] / len(batch) + penalty)
        epoch += 1
        train_loss, train_accuracy = evaluate(weights, train)
        val_loss, val_accuracy = evaluate(weights, val)
        line = {"step": epoch, "epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy,
                "val_loss": val_loss, "val_accuracy": val_accuracy}
        if epoch == args.epochs:
            line["test_loss"], line["test_accuracy"] = evaluate(weights, test)
        save_checkpoint(checkpoint_dir, epoch, weights, {"epoch": epoch, "lr": args.lr, "l2": args.l2, "val_loss": val_loss})
        # One write of one whole line, after the checkpoint: the worker ties them by step.
        os.write(metrics, (json.dumps(line) + "\n").encode())

    if stop_requested:
        print("stopped by SIGTERM after epoch %d" % epoch, file=sys.stderr)
        sys.exit(143)
    print("done: %d epochs" % epoch)


if __name__ == "__main__":
    main()
