"""A deterministic trial program for the fault-injection tests (docs/reliability.md).

Every value it writes is a function of its parameters and the step alone, so a step redone after a
resume writes the identical value and checkpoint, and the checker (FaultInvariants.swift) can
compute what each step must have stored:

    loss(step) = (1 + rank) / step + rank / 10

A lower rank is better at every step, so rank 0 is the best trial whatever order reports arrive in
and whatever early-stopping decisions that order leads to.

Each step: sleep `pause` seconds, write step-N.safetensors (a JSON header line naming rank and
step, padded to `ckpt_bytes` with bytes that depend on rank and step only) by rename, then the
metrics line. With THRESHER_RESUME_FROM set it reads the header and continues at the next step.
Standard library only.
"""
import json
import os
import sys
import time

args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
rank = int(args["rank"])
steps = int(args["steps"])
pause = float(args.get("pause", "0.1"))
size = int(args.get("ckpt_bytes", "2048"))


def loss(step):
    return (1.0 + rank) / step + rank / 10.0


def checkpoint_bytes(step):
    header = (json.dumps({"rank": rank, "step": step}) + "\n").encode()
    block = bytes((rank * 31 + step * 7 + i) % 251 for i in range(4096))
    filler = block * ((size - len(header)) // len(block) + 1)
    return header + filler[: max(0, size - len(header))]


start = 1
resume = os.environ.get("THRESHER_RESUME_FROM")
if resume:
    with open(resume, "rb") as f:
        header = json.loads(f.readline())
    if header["rank"] != rank:
        sys.exit("resume checkpoint %s is of rank %s, not %s" % (resume, header["rank"], rank))
    start = int(header["step"]) + 1

folder = os.environ["THRESHER_CHECKPOINT_DIR"]
with open(os.environ["THRESHER_METRICS_FILE"], "a") as metrics:
    for step in range(start, steps + 1):
        time.sleep(pause)
        tmp = os.path.join(folder, ".step-%d.tmp" % step)
        with open(tmp, "wb") as f:
            f.write(checkpoint_bytes(step))
        os.replace(tmp, os.path.join(folder, "step-%d.safetensors" % step))
        metrics.write(json.dumps({"step": step, "loss": loss(step)}) + "\n")
        metrics.flush()
