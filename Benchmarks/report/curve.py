# A synthetic trial for the report benchmark: 100 metric lines, no checkpoint.
import json, math, os, sys
args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:])
lr, wd, width, depth = (float(args[k]) for k in ("lr", "wd", "width", "depth"))
with open(os.environ["THRESHER_METRICS_FILE"], "a") as out:
    for step in range(1, 101):
        loss = 1.0 / (1 + lr * step) + 0.05 * math.log10(1 / lr) * wd + 0.01 * depth / width + 0.002 * math.sin(step)
        out.write(json.dumps({"step": step, "loss": loss}) + "\n")
