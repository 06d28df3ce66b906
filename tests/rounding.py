"""How far two float computations of the same sums may round apart, from the dtype and sizes.

A sum of n products ``s = sum_i x_i y_i`` computed in floating point (unit roundoff
``u = eps / 2``) is off by at most ``gamma_n * sum_i |x_i y_i|``, ``gamma_n = n u / (1 - n u)``,
whatever the order of the additions (Higham, *Accuracy and Stability of Numerical Algorithms*,
2nd ed., section 3.1). That worst case needs every rounding to err the same way; with the
roundings independent and of mean zero the error is at most about ``lam * sqrt(n) * u`` times
the same sum of magnitudes, with probability at least ``1 - 2 n exp(-lam^2 / 2)`` (Higham and
Mary, "A new approach to probabilistic rounding error analysis", SIAM J. Sci. Comput. 41(5),
2019, their bound for inner products). Two computations that add in different orders (a
library's blocking, AVX2 lanes, AMX tiles, a transposed product) each carry such an error, so
they differ by at most twice it:

    |a - b| <= lam * eps * sqrt(n) * sum_i |x_i y_i|        (lam = 6: 1 - 2.4e-5 for n = 784)

The scale is the sum of the magnitudes of the terms, not the size of the result: a sum whose
terms cancel (a logit of 0.4 made of 784 products adding to 100 in magnitude) rounds as the
terms do. A training step's rounding is carried into the parameters and from them into every
later step, so a comparison after ``steps`` steps allows the sum of their bounds.
"""

from __future__ import annotations

import math

import torch

LAM = 6.0


def sum_tolerance(n: int, scale: float, dtype: torch.dtype = torch.float32) -> float:
    """How far two computations of sums of ``n`` products, whose terms add to ``scale`` in
    magnitude, may round apart in ``dtype``: ``LAM * eps * sqrt(n) * scale``."""
    return LAM * torch.finfo(dtype).eps * math.sqrt(n) * float(scale)


def assert_rounds_close(actual: torch.Tensor, expected: torch.Tensor, tolerance: float,
                        msg: str = "") -> None:
    """``actual`` equals ``expected`` to within ``tolerance`` (absolute) everywhere."""
    torch.testing.assert_close(actual, expected, rtol=0, atol=tolerance, msg=msg or None)
