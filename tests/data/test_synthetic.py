"""The synthetic data sets of :mod:`shallowlab.data.synthetic`: each follows its law."""

import math

import pytest
import torch

from shallowlab.data import synthetic
from shallowlab.experiments import polyfit


def test_polynomial_features_are_scaled_powers_and_the_labels_follow_the_law():
    x, features, y = synthetic.polynomial(polyfit.TRUE_W, 50, 20, noise=0.0,
                                          generator=torch.Generator().manual_seed(1))
    assert features.shape == (50, 20) and y.shape == (50, 1)
    for i in (0, 1, 3, 7):
        torch.testing.assert_close(features[:, i], x[:, 0] ** i / math.factorial(i))
    torch.testing.assert_close(y[:, 0], 5 + 1.2 * x[:, 0] - 3.4 * x[:, 0] ** 2 / 2
                               + 5.6 * x[:, 0] ** 3 / 6)


def test_outliers_shift_the_chosen_fraction_by_the_chosen_amounts():
    y = torch.zeros(1000, 1)
    shifted, mask = synthetic.outliers(y, 0.05, 10.0, 50.0, torch.Generator().manual_seed(0))
    assert shifted.shape == y.shape and int(mask.sum()) == 50
    moved = shifted[mask].abs()
    assert ((moved >= 10) & (moved <= 50)).all()
    assert (shifted[mask] > 0).any() and (shifted[mask] < 0).any()
    assert (shifted[~mask] == 0).all() and (y == 0).all()  # the input is left untouched


def test_planck_law_puts_the_peak_where_wien_says():
    wavelength = torch.linspace(100e-9, 3000e-9, 29001, dtype=torch.float64)
    peak = wavelength[synthetic.planck(wavelength, 5800.0).argmax()].item()
    assert peak == pytest.approx(2.897771955e-3 / 5800, rel=1e-3)
