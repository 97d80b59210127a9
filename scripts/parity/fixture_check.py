"""Compares freshly built fixture tensors with a committed safetensors file (the scripts' --check)."""
from safetensors.torch import load_file


def check(tensors, path, tolerance=0.0):
    """True when `path` holds exactly the names of `tensors`, with equal dtypes and shapes and values
    within `tolerance` (absolute); prints every difference and the largest one."""
    committed = load_file(str(path))
    ok = set(committed) == set(tensors)
    if not ok:
        print(f"names differ: {sorted(set(committed) ^ set(tensors))}")
    worst = 0.0
    for name in sorted(set(committed) & set(tensors)):
        a, b = tensors[name], committed[name]
        if a.shape != b.shape or a.dtype != b.dtype:
            print(f"{name}: {a.dtype} {list(a.shape)} vs committed {b.dtype} {list(b.shape)}")
            ok = False
            continue
        diff = float((a.double() - b.double()).abs().max()) if a.numel() else 0.0
        worst = max(worst, diff)
        if diff > tolerance:
            print(f"{name}: max |difference| {diff:.3g} > {tolerance:g}")
            ok = False
    print(f"{'matches' if ok else 'DIFFERS FROM'} {path} (max |difference| {worst:.3g})")
    return ok
