"""Scalar functions applied to every coordinate after a linear decoder: the learned coordinate-wise denoiser of
sparse data (a small network, trained; docs/theory.md eq. (41)) and a piecewise-linear function, the activation
of the deep decoder on sparse data (signae.deep_decoder, eq. (42)) and the denoiser after the linear decoder on
real images (signae.real_denoiser, eq. (43)), whose least-squares fit is exact.

    phi(u) = u + g(clip(u, lo, hi)),   g linear between K equally spaced knots on [lo, hi],

so phi is the identity plus a bounded correction, cheap to evaluate on every coordinate of every sample
(two gathers), and its best fit to pairs (u, x) in the least-squares sense is a K x K tridiagonal solve.
"""

from __future__ import annotations

import torch


class FitFailed(RuntimeError):
    """A fitted decoder whose loss cannot be right (not finite, not below the trivial risk); nothing is saved."""


class PiecewiseLinear(torch.nn.Module):
    """u -> u + g(clip(u, lo, hi)), elementwise, any shape. ``g`` (K,) holds g's values at the knots and is
    the only parameter (docs/theory.md eq. (42))."""

    def __init__(self, lo: float, hi: float, g: torch.Tensor):
        super().__init__()
        if not hi > lo or g.numel() < 2:
            raise ValueError(f"a piecewise-linear function needs hi > lo and two knots, got [{lo}, {hi}], {g.numel()}")
        self.lo, self.hi = float(lo), float(hi)
        self.h = (self.hi - self.lo) / (g.numel() - 1)  # knot spacing
        self.g = torch.nn.Parameter(g.clone())  # (K,)

    @classmethod
    def matching(cls, fn, lo: float, hi: float, knots: int, device=None, dtype=torch.float32) -> PiecewiseLinear:
        """The piecewise-linear function equal to ``fn`` (elementwise) at the knots."""
        grid = torch.linspace(lo, hi, knots, device=device, dtype=dtype)  # (K,)
        with torch.no_grad():
            return cls(lo, hi, fn(grid) - grid)

    def _position(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(left knot index i, weight w of the right knot), both u's shape; w in [0, 1]."""
        t = (u.clamp(self.lo, self.hi) - self.lo) / self.h  # in [0, K - 1]
        i = t.detach().floor().clamp(max=self.g.numel() - 2).long()
        return i, t - i

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        i, w = self._position(u)
        return u + (1 - w) * self.g[i] + w * self.g[i + 1]


def fit_piecewise_linear(chunks, lo: float, hi: float, knots: int, ridge: float = 1e-9) -> PiecewiseLinear:
    """The least-squares piecewise-linear denoiser (docs/theory.md eq. (43)): minimises sum (x - phi(u))^2
    over pairs (u, x) given in chunks (any shapes, flattened), exactly: the normal equations of the K hat
    functions are tridiagonal and accumulate in float64. ``ridge`` (relative to the largest diagonal entry)
    keeps knots that no u reaches at g = 0."""
    K = knots
    diag, off, b = (torch.zeros(K, dtype=torch.float64) for _ in range(3))  # G's diagonals (off: G[k, k+1]), G g = b
    probe = PiecewiseLinear(lo, hi, torch.zeros(K))
    for u, x in chunks:
        u, x = u.reshape(-1).cpu(), x.reshape(-1).cpu()
        i, w = probe._position(u)
        w, y = w.double(), (x - u).double()  # y: the correction g must fit
        diag += torch.bincount(i, weights=(1 - w) ** 2, minlength=K) + torch.bincount(i + 1, weights=w**2, minlength=K)
        off += torch.bincount(i, weights=(1 - w) * w, minlength=K)
        b += torch.bincount(i, weights=(1 - w) * y, minlength=K) + torch.bincount(i + 1, weights=w * y, minlength=K)
    G = torch.diag(diag) + torch.diag(off[:-1], 1) + torch.diag(off[:-1], -1)
    G += ridge * G.diagonal().max().clamp(min=1.0) * torch.eye(K, dtype=torch.float64)
    return PiecewiseLinear(lo, hi, torch.linalg.solve(G, b).float())


class CoordinateDenoiser(torch.nn.Module):
    """A learned coordinate-wise denoiser: one small network y -> x_hat applied to every coordinate of
    x_lin / alpha, shared across coordinates (docs/theory.md eq. (41)). Width 32, two hidden layers,
    plus the linear term y (so that it starts as the identity)."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(1, width),
            torch.nn.Tanh(),
            torch.nn.Linear(width, width),
            torch.nn.Tanh(),
            torch.nn.Linear(width, 1),
        )
        torch.nn.init.zeros_(self.net[-1].weight)
        torch.nn.init.zeros_(self.net[-1].bias)

    def forward(self, y: torch.Tensor) -> torch.Tensor:  # any shape -> same shape
        return y + self.net(y.reshape(-1, 1)).reshape(y.shape)


def train_denoiser(
    y: torch.Tensor, x: torch.Tensor, steps: int = 300, lr: float = 1e-2, seed: int = 0, batch: int = 8192
) -> CoordinateDenoiser:
    """Train a :class:`CoordinateDenoiser` on pairs (y, x) (flattened coordinates of x_lin / alpha and of
    x) by Adam on the squared error (docs/theory.md eq. (41)). Its initial weights are drawn from ``seed``
    without touching torch's global generator."""
    with torch.random.fork_rng(devices=[]):  # the CPU generator draws the initial weights; restored after
        torch.manual_seed(seed)
        model = CoordinateDenoiser().to(device=y.device, dtype=y.dtype)
    y, x = y.reshape(-1), x.reshape(-1)
    g = torch.Generator(device=y.device).manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    with torch.enable_grad():  # callers may hold torch.no_grad()
        for _ in range(steps):
            idx = torch.randint(0, y.numel(), (min(batch, y.numel()),), generator=g, device=y.device)
            loss = (model(y[idx]) - x[idx]).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()
