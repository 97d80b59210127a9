#!/usr/bin/env python3
"""Optuna's TPESampler as a peer for `thresher bench sweep`.

Runs the same experiment as ThresherSweep's SweepBenchmark: Branin (x1 in [-5, 10],
x2 in [0, 15], global minimum 0.397887) and Hartmann-6 ([0, 1]^6, global minimum -3.32237)
as uniform-parameter minimisations, seeds 0..seeds-1, `trials` sequential trials each, with
Optuna's default TPESampler(seed=seed) (10 startup trials, 24 EI candidates). Prints the
median over seeds of the best regret (best value found - global minimum).

Usage: python3 Benchmarks/optuna_peer.py [--seeds 20] [--trials 50] [--json]
Exit status 3 with "peer not installed" when optuna cannot be imported.
"""
import argparse
import json
import math
import statistics
import sys

try:
    import optuna
except ImportError:
    print("peer not installed")
    sys.exit(3)


def branin(x):
    b = 5.1 / (4 * math.pi ** 2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10


HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
              [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
              [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def hartmann6(x):
    total = 0.0
    for alpha, a_row, p_row in zip(HARTMANN_ALPHA, HARTMANN_A, HARTMANN_P):
        exponent = sum(a * (xj - p * 1e-4) ** 2 for a, xj, p in zip(a_row, x, p_row))
        total += alpha * math.exp(-exponent)
    return -total


FUNCTIONS = [
    ("branin", branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887),
    ("hartmann6", hartmann6, [(0.0, 1.0)] * 6, -3.32237),
]


def best_regret(function, domain, minimum, seed, trials):
    def objective(trial):
        x = [trial.suggest_float(f"x{k + 1}", lo, hi) for k, (lo, hi) in enumerate(domain)]
        return function(x)

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    return study.best_value - minimum


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    medians = {}
    for name, function, domain, minimum in FUNCTIONS:
        regrets = [best_regret(function, domain, minimum, seed, args.trials) for seed in range(max(args.seeds, 1))]
        medians[f"{name}_optuna"] = statistics.median(regrets)

    if args.json:
        print(json.dumps({"seeds": args.seeds, "trials": args.trials, **medians}))
    else:
        print(f"Optuna {optuna.__version__} TPESampler, median best regret over {args.seeds} seeds x {args.trials} trials")
        for name, *_ in FUNCTIONS:
            print(f"{name:<12}{medians[name + '_optuna']:.6g}")


if __name__ == "__main__":
    main()
