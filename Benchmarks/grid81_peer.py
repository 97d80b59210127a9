#!/usr/bin/env python3
"""Ray Tune and Optuna as peers for `thresher bench cluster`: the 81-trial no-op grid.

The grid is 3^4 (a, b, c, d each in [1, 2, 3]); every trial reports POINTS metric values
("loss" at steps 1..POINTS, a pure function of the parameters and the step) and ends. Nothing
is trained: the figure is the framework's own cost per trial.

- ray: `tune.Tuner` over `tune.grid_search`, a function trainable calling `tune.report` per
  point, max_concurrent_trials 2 (the machine's cores), actor reuse on (Ray's faster setting;
  PLATFORM.md saw ~124 s without it), results under a temporary folder. Timed from before
  `ray.init` to after `ray.shutdown`: what a user waits for.
- optuna: `GridSampler` over the same grid, `trial.report` per point, n_jobs 1, in-memory
  storage; and the same with SQLite storage in a temporary folder (durable, as Thresher is).

Prints one JSON object: {"peer": ..., "seconds": ..., "trials": 81, ...}.
Exit status 3 with "peer not installed" when the framework cannot be imported.

Usage: python3 Benchmarks/grid81_peer.py ray|optuna|optuna-sqlite [--points 5]
"""
import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time

VALUES = [1, 2, 3]


def loss(config, step):
    return (config["a"] * 0.1 + config["b"] * 0.01 + config["c"] * 0.001 + config["d"] * 0.0001) / step


def run_ray(points):
    try:
        import ray
        from ray import tune
    except ImportError:
        print("peer not installed")
        sys.exit(3)
    folder = tempfile.mkdtemp(prefix="thresher-ray-")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")

    def trainable(config):
        for step in range(1, points + 1):
            tune.report({"loss": loss(config, step), "step": step})

    start = time.perf_counter()
    try:
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
        space = {key: tune.grid_search(VALUES) for key in "abcd"}
        tuner = tune.Tuner(
            trainable,
            param_space=space,
            tune_config=tune.TuneConfig(metric="loss", mode="min", max_concurrent_trials=2, reuse_actors=True),
            run_config=tune.RunConfig(storage_path=folder, name="grid81", verbose=0),
        )
        results = tuner.fit()
        trials = len(results)
        errors = sum(1 for r in results if r.error is not None)
        ray.shutdown()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    seconds = time.perf_counter() - start
    return {"peer": "ray", "version": ray.__version__, "seconds": seconds, "trials": trials, "errors": errors}


def run_optuna(points, sqlite):
    try:
        import optuna
    except ImportError:
        print("peer not installed")
        sys.exit(3)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = tempfile.mkdtemp(prefix="thresher-optuna-")
    storage = f"sqlite:///{folder}/optuna.db" if sqlite else None

    def objective(trial):
        config = {key: trial.suggest_categorical(key, VALUES) for key in "abcd"}
        value = None
        for step in range(1, points + 1):
            value = loss(config, step)
            trial.report(value, step)
        return value

    start = time.perf_counter()
    try:
        sampler = optuna.samplers.GridSampler({key: VALUES for key in "abcd"}, seed=0)
        study = optuna.create_study(direction="minimize", sampler=sampler, storage=storage)
        study.optimize(objective, n_trials=81, n_jobs=1)
        trials = len(study.trials)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    seconds = time.perf_counter() - start
    return {"peer": "optuna-sqlite" if sqlite else "optuna", "version": optuna.__version__, "seconds": seconds,
            "trials": trials, "errors": 0}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=["ray", "optuna", "optuna-sqlite"])
    parser.add_argument("--points", type=int, default=5)
    args = parser.parse_args()
    if args.peer == "ray":
        result = run_ray(args.points)
    else:
        result = run_optuna(args.points, sqlite=args.peer == "optuna-sqlite")
    result["points"] = args.points
    sys.stdout.flush()
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
