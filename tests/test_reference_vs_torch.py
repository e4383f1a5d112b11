"""The reference against PyTorch where the two behave the same: values given the same mask
(the scale rounding for float16/32/64), eval, p=0, p=1 and non-finite input, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from dropout2d_reference import dropout2d, scale_for

torch = pytest.importorskip("torch")  # this module only; the reference's own tests need numpy

FLOATS = [np.float16, np.float32, np.float64]


def _x(rng: np.random.Generator, shape=(8, 16, 3, 5), dtype=np.float32) -> np.ndarray:
    return (rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)).astype(dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [0.1, 0.25, 1 / 3, 0.5, 0.7, 0.9, 0.99, 0.123456])
def test_same_values_as_torch_given_the_same_mask(rng, dtype, p):
    x = (rng.standard_normal((32, 24, 3, 5)) + 0.01).astype(dtype)
    y_torch = torch.nn.functional.dropout2d(torch.from_numpy(x.copy()), p, True).numpy()
    keep = (y_torch != 0).any(axis=(2, 3))
    expected = x * (keep[..., None, None].astype(dtype) * scale_for(p, dtype))
    np.testing.assert_array_equal(expected.view(f"u{x.itemsize}"), y_torch.view(f"u{x.itemsize}"))


def test_same_edge_behaviour_as_torch(rng):
    x = _x(rng)
    tx = torch.from_numpy(x.copy())
    for p in (0.0, 0.5, 1.0):
        assert np.array_equal(
            torch.nn.functional.dropout2d(tx, p, False).numpy(), dropout2d(x, p, training=False)
        )
    np.testing.assert_array_equal(
        torch.nn.functional.dropout2d(tx, 1.0, True).numpy(), dropout2d(x, 1.0)
    )
    special = np.array([[[[-1.0, np.nan, np.inf]]]])
    np.testing.assert_array_equal(
        torch.nn.functional.dropout2d(torch.from_numpy(special), 1.0, True).numpy(),
        dropout2d(special, 1.0),
    )
