"""The work counter of benchmarks/bench_floor.py against the textbook counts it claims (a product of (m, k) by
(k, n) is 2 m k n; a Cholesky factorisation n^3 / 3), by dtype, and its count of autograd's backward pass."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_floor import WorkCounter


def test_products_counted_by_dtype():
    a32, b32 = torch.randn(30, 20), torch.randn(20, 10)
    a64 = torch.randn(7, 5, dtype=torch.float64)
    with WorkCounter() as c:
        a32 @ b32
        a64 @ a64.T
        torch.sign(a32)  # element-wise: not counted
    assert c.counts["float32"] == 2 * 30 * 20 * 10
    assert c.counts["float64"] == 2 * 7 * 5 * 7


def test_backward_and_factorisations_counted():
    w = torch.randn(20, 10, requires_grad=True)
    x = torch.randn(30, 20)
    with WorkCounter() as c:
        (x @ w).sum().backward()  # forward 2*30*20*10; backward: only dL/dw = x^T g (x needs no gradient)
    assert c.counts["float32"] == 2 * (2 * 30 * 20 * 10)
    m = torch.randn(40, 40, dtype=torch.float64)
    spd = m @ m.T + 40 * torch.eye(40, dtype=torch.float64)
    with WorkCounter() as c:
        torch.linalg.cholesky(spd)
    assert c.counts["float64"] == pytest.approx(40**3 / 3)
    with WorkCounter() as c:
        torch.linalg.solve(spd, torch.randn(40, 3, dtype=torch.float64))
    assert c.counts["float64"] == pytest.approx(2 * 40**3 / 3 + 2 * 40**2 * 3)
