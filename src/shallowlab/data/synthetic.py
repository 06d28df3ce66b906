"""Synthetic data sets with a known truth, so a fit can be checked against it."""

from __future__ import annotations

import torch


def linear(w: torch.Tensor, b: float, num_examples: int, noise: float = 0.01,
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``y = X w + b + eps``, X ~ N(0, 1) (n, d), eps ~ N(0, noise^2); returns X, y (n, 1).

    The book's ``synthetic_data`` (d2l 3.2); the lowest mean squared loss ``(y_hat - y)^2 / 2``
    any model can reach on it is ``noise^2 / 2``.
    """
    w = torch.as_tensor(w, dtype=torch.float32)
    X = torch.randn(num_examples, len(w), generator=generator)
    y = X @ w + b  # (n,) for w (d,), (n, 1) for w (d, 1): the noise takes the same shape
    y = y + noise * torch.randn(y.shape, generator=generator)
    return X, y.reshape(-1, 1)


def ohm(resistance: float, num_examples: int, noise: float = 0.1, max_current: float = 2.0,
        generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Voltages ``V = I R + eps`` measured at currents ``I ~ U(0, max_current)``; returns I, V.

    Both (n, 1), in amperes and volts; eps ~ N(0, noise^2) is the voltmeter's error.
    """
    current = max_current * torch.rand(num_examples, 1, generator=generator)
    voltage = current * resistance + noise * torch.randn(num_examples, 1, generator=generator)
    return current, voltage


def outliers(y: torch.Tensor, fraction: float, low: float, high: float,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A copy of ``y`` with ``round(fraction n)`` entries shifted by ``+-U(low, high)``.

    The entries, the signs and the sizes are drawn at random; returns the new y (same shape)
    and the (n,) boolean mask of the shifted entries, for gross errors in the labels.
    """
    n = len(y)
    hit = torch.randperm(n, generator=generator)[: round(fraction * n)]
    size = low + (high - low) * torch.rand(len(hit), generator=generator)
    sign = torch.randint(0, 2, (len(hit),), generator=generator) * 2 - 1
    shifted = y.clone().reshape(n, -1)
    shifted[hit] += (sign * size).to(y.dtype).reshape(-1, 1)
    mask = torch.zeros(n, dtype=torch.bool)
    mask[hit] = True
    return shifted.reshape(y.shape), mask


def polynomial(coefficients: torch.Tensor, num_examples: int, num_features: int = 20,
               noise: float = 0.1, generator: torch.Generator | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``y = sum_i w_i x^i / i! + eps``, x ~ N(0, 1), eps ~ N(0, noise^2) (d2l 4.4).

    Returns x (n, 1), the features ``x^i / i!`` for i = 0 .. num_features - 1 (n, num_features)
    and y (n, 1). ``coefficients`` are the first w_i; the rest are 0. Dividing by ``i!`` keeps
    the high powers of a normal x from dwarfing the low ones (``E[x^{2i}] = (2i - 1)!!``).
    """
    w = torch.zeros(num_features)
    w[: len(coefficients)] = torch.as_tensor(coefficients, dtype=torch.float32)
    x = torch.randn(num_examples, 1, generator=generator)
    powers = torch.arange(num_features, dtype=torch.float32)
    features = x.pow(powers) / torch.exp(torch.lgamma(powers + 1))  # (n, num_features)
    y = features @ w + noise * torch.randn(num_examples, generator=generator)
    return x, features, y.reshape(-1, 1)


H, C, K_B = 6.62607015e-34, 2.99792458e8, 1.380649e-23  # Planck, light speed, Boltzmann (SI)


def planck(wavelength: torch.Tensor, temperature: torch.Tensor | float) -> torch.Tensor:
    """Black-body spectral radiance ``B = 2 h c^2 / lambda^5 / (exp(h c / (lambda k T)) - 1)``.

    In W / (m^2 sr m) for ``wavelength`` in metres and ``temperature`` in kelvin (broadcast).
    """
    return 2 * H * C**2 / wavelength**5 / torch.expm1(H * C / (wavelength * K_B * temperature))


def black_body(temperature: float, wavelength: torch.Tensor, noise: float = 0.05,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Measured radiance ``B(lambda, T) exp(noise * eps)``, eps ~ N(0, 1): relative errors.

    Same shape and dtype as ``wavelength``; the noise is ``noise`` (5%) of each value.
    """
    eps = torch.randn(wavelength.shape, generator=generator, dtype=wavelength.dtype)
    return planck(wavelength, temperature) * torch.exp(noise * eps)
