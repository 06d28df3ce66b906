"""The speed benchmark's targets: each one measured against its bound, or said unmeasured.

The targets (issues 7 and 25): the MLP's fp32 epoch within 1.4x its fp32 roofline and softmax
regression's within 3x its memory limit, both at least 15x faster than the book, on every CPU;
where the CPU computes bf16 natively (AVX-512 BF16 or AMX), the bf16 MLP epoch at most 0.6x
the fp32 one, within 2.5x its own (bf16) roofline and at least 18x faster than the book, and
the book's 10 epochs in bf16 ending within 0.005 test accuracy of fp32's (median of 3 seeds,
:mod:`benchmarks.accuracy`). Where bf16 is slow those lines are not measured, and each says why.
"""

from __future__ import annotations

TARGET_X_LIMIT = {"mlp": ("roofline", 1.4), "softmax": ("memory limit", 3.0)}
TARGET_X_BOOK = 15.0  # book epoch / shallowlab epoch
TARGET_BF16 = 0.6  # shallowlab-bf16 epoch / shallowlab epoch, where bf16 is fast
TARGET_BF16_X_ROOF = 2.5  # shallowlab-bf16 epoch / the bf16 roofline
TARGET_BF16_X_BOOK = 18.0  # book epoch / shallowlab-bf16 epoch
TARGET_BF16_ACC = 0.005  # |median bf16 test accuracy - median fp32|, 10 epochs, 3 seeds


def find(rows: list[dict], model: str, pipeline: str) -> dict | None:
    return next((r for r in rows if r["model"] == model and r["pipeline"] == pipeline), None)


def _check(value: float | None, bound: float, at_most: bool, why_not: str | None) -> dict:
    """A target's record: the value, its bound, and met (None, with ``why``, if unmeasured)."""
    if value is None or why_not:
        return {"value": value, "bound": bound, "met": None, "why": why_not or "not run"}
    return {"value": value, "bound": bound, "met": value <= bound if at_most else value >= bound,
            "why": None}


def verdict(name: str, rows: list[dict], limits: dict, slow_bf16: str | None) -> dict:
    """shallowlab's ratios for model ``name`` against the targets; bf16's only where it is
    fast (``slow_bf16`` is None), else unmeasured with ``slow_bf16`` as the reason."""
    ours, book = find(rows, name, "shallowlab"), find(rows, name, "book")
    bf16 = find(rows, name, "shallowlab-bf16")
    kind, target = TARGET_X_LIMIT[name]
    x_limit = ours["median_epoch_seconds"] / limits[name][kind]["seconds"]
    checks = {"x_limit": _check(x_limit, target, True, None),
              "x_faster_than_book": _check(book and book["x_slower_than_shallowlab"],
                                           TARGET_X_BOOK, False, None)}
    if name == "mlp":
        epoch = bf16 and bf16["median_epoch_seconds"]
        checks["bf16_x_fp32"] = _check(bf16 and bf16["x_slower_than_shallowlab"], TARGET_BF16,
                                       True, slow_bf16)
        checks["bf16_x_roofline"] = _check(
            epoch and epoch / limits[name]["roofline bf16"]["seconds"], TARGET_BF16_X_ROOF,
            True, slow_bf16)
        checks["bf16_x_faster_than_book"] = _check(
            epoch and book and book["median_epoch_seconds"] / epoch, TARGET_BF16_X_BOOK, False,
            slow_bf16)
    return {"limit": kind, **checks}


LABELS = {"x_limit": "x its {limit}", "x_faster_than_book": "x faster than the book",
          "bf16_x_fp32": "bf16 epoch x fp32's", "bf16_x_roofline": "bf16 epoch x its roofline",
          "bf16_x_faster_than_book": "bf16 x faster than the book",
          "bf16_acc_gap": "bf16 test accuracy - fp32's (10 epochs, median of 3 seeds)"}


def lines(verdicts: dict) -> list[str]:
    """One line per target: the value against its bound and met or MISSED, or why it was not
    measured."""
    out = []
    for name, v in verdicts.items():
        for key, check in v.items():
            if key == "limit" or check["why"] == "not run":
                continue
            label = LABELS[key].format(limit=v["limit"])
            sign = "<=" if key in ("x_limit", "bf16_x_fp32", "bf16_x_roofline",
                                   "bf16_acc_gap") else ">="
            if check["met"] is None:
                out.append(f"target {name}: {label} {sign} {check['bound']:g}: not measured: "
                           f"{check['why']}")
            else:
                out.append(f"target {name}: {label} {check['value']:.3f} ({sign} "
                           f"{check['bound']:g}): {'met' if check['met'] else 'MISSED'}")
    return out


def accuracy_check(gap: float | None, slow_bf16: str | None) -> dict:
    """The bf16 accuracy target's record, from :func:`benchmarks.accuracy.compare`'s gap."""
    return _check(None if gap is None else abs(gap), TARGET_BF16_ACC, True, slow_bf16)
