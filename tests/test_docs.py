"""docs/theory.md and docs/api.md against the code.

Two kinds of tests:

- references both ways: every equation of docs/theory.md names functions that exist and cite it
  (`eq. (N)` in their docstrings) and tests that exist; every `eq. (N)` in a function's docstring points
  to an equation that names that function; the examples of docs/api.md run. The checks are small
  functions returning a list of problems, so they are tested on broken input too;
- numerical checks of the formulas of docs/theory.md that no other test file checks directly, each
  against an independent computation (Monte Carlo, numpy, autograd, a simulated spectrum).

Everything here runs in seconds, with no network and no data outside the repository.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import math
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import signae
from signae import claims, evaluate, linalg, population, real_source, spectra, tables, theory, train

ROOT = Path(__file__).resolve().parents[1]
THEORY = ROOT / "docs" / "theory.md"
API = ROOT / "docs" / "api.md"
MIN_API_EXAMPLES = 30

HEADING = re.compile(r"^### \((\d+)\) (.+)$")
REFERENCES = re.compile(r"^\*\*Code:\*\* (?P<code>.+?) · \*\*Tests:\*\* (?P<tests>.+)$")
BACKTICKED = re.compile(r"`([^`]+)`")
CITATION = re.compile(r"eq\. \((\d+)\)")
NO_CODE = "none (argument only)"
TEST_ENTRY = re.compile(r"^(tests/[\w/]+\.py)::(test_\w+)$")


# ---------------------------------------------------------------------------------------------------
# The checks: each returns a list of problems (empty when all is well).


@dataclass
class Equation:
    number: int
    title: str
    code: list[str]
    tests: list[str]


def parse_equations(text: str) -> tuple[list[Equation], list[str]]:
    """The equation sections of a theory page: a `### (N) Title` heading, then exactly one line
    `**Code:** ... · **Tests:** ...` before the next heading. Returns (equations, problems)."""
    equations, problems = [], []
    current, refs = None, []

    def close():
        if current is None:
            return
        if len(refs) != 1:
            problems.append(
                f"eq. ({current[0]}) {current[1]!r}: {len(refs)} '**Code:** ... · **Tests:** ...' "
                f"lines, expected exactly 1"
            )
            return
        code_text, tests_text = refs[0].group("code").strip(), refs[0].group("tests").strip()
        code = [] if code_text == NO_CODE else BACKTICKED.findall(code_text)
        if code_text != NO_CODE and not code:
            problems.append(f"eq. ({current[0]}): **Code:** lists no `name` (write '{NO_CODE}' if none)")
        tests = BACKTICKED.findall(tests_text)
        if not tests:
            problems.append(f"eq. ({current[0]}): **Tests:** lists no test")
        equations.append(Equation(current[0], current[1], code, tests))

    for line in text.splitlines():
        heading = HEADING.match(line)
        if heading or line.startswith("#"):
            close()
            current, refs = (int(heading.group(1)), heading.group(2)) if heading else None, []
            continue
        match = REFERENCES.match(line)
        if match:
            if current is None:
                problems.append(f"a '**Code:**' line outside an equation section: {line[:60]!r}")
            else:
                refs.append(match)
        elif line.startswith(("**Code:**", "**Tests:**")):
            problems.append(f"malformed reference line (expected '**Code:** ... · **Tests:** ...'): {line[:60]!r}")
    close()
    return equations, problems


def check_numbering(equations: list[Equation]) -> list[str]:
    """Equation numbers are 1, 2, 3, ... in order."""
    if not equations:
        return ["no equations found"]
    return [
        f"equation {k}: numbered ({eq.number}), expected ({k})"
        for k, eq in enumerate(equations, start=1)
        if eq.number != k
    ]


def resolve(name: str):
    """The object a fully qualified name `signae.module.function` (or `...Class.method`) denotes:
    the longest importable module prefix, then attributes. Raises LookupError."""
    parts = name.split(".")
    if parts[0] != "signae":
        raise LookupError(f"{name}: not a name in the signae package")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                raise LookupError(f"{name}: {'.'.join(parts[:cut])} has no attribute path {'.'.join(parts[cut:])}")
            obj = getattr(obj, attr)
        return obj
    raise LookupError(f"{name}: no importable module")


def cites(doc: str | None, number: int) -> bool:
    return number in {int(m) for m in CITATION.findall(doc or "")}


def check_code(equations: list[Equation]) -> list[str]:
    """Every **Code:** name resolves, and its own docstring cites `eq. (N)` of its equation."""
    problems = []
    for eq in equations:
        for name in eq.code:
            try:
                obj = resolve(name)
            except LookupError as err:
                problems.append(f"eq. ({eq.number}): {err}")
                continue
            if not cites(inspect.getdoc(obj), eq.number):
                problems.append(f"eq. ({eq.number}): the docstring of {name} does not cite 'eq. ({eq.number})'")
    return problems


def defined_tests(path: Path) -> set[str]:
    """Names of the top-level `def test_...` of a test file."""
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")
    }


def check_tests(equations: list[Equation], root: Path = ROOT) -> list[str]:
    """Every **Tests:** entry is `tests/<file>.py::test_<name>`, the file exists and defines the test."""
    problems, cache = [], {}
    for eq in equations:
        for entry in eq.tests:
            match = TEST_ENTRY.match(entry)
            if not match:
                problems.append(f"eq. ({eq.number}): {entry!r} is not 'tests/<file>.py::test_<name>'")
                continue
            rel, func = match.groups()
            if rel not in cache:
                path = root / rel
                cache[rel] = defined_tests(path) if path.is_file() else None
            if cache[rel] is None:
                problems.append(f"eq. ({eq.number}): {rel} does not exist")
            elif func not in cache[rel]:
                problems.append(f"eq. ({eq.number}): {rel} defines no top-level {func}")
    return problems


def package_callables() -> list[tuple[str, object]]:
    """(qualified name, object) of every function, class and method defined in a module of signae."""
    found = []
    for info in sorted(pkgutil.iter_modules(signae.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"signae.{info.name}")
        for name, obj in vars(module).items():
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != module.__name__:
                continue
            found.append((f"{module.__name__}.{name}", obj))
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if isinstance(member, (classmethod, staticmethod)):
                        member = member.__func__
                    elif isinstance(member, property):
                        member = member.fget
                    if inspect.isfunction(member):
                        found.append((f"{module.__name__}.{name}.{attr}", member))
    return found


def check_citations(equations: list[Equation], callables) -> list[str]:
    """Every `eq. (N)` in a function's, class's or method's own docstring names an equation that lists it."""
    listed = {eq.number: set(eq.code) for eq in equations}
    problems = []
    for name, obj in callables:
        for number in sorted({int(m) for m in CITATION.findall(obj.__doc__ or "")}):
            if number not in listed:
                problems.append(f"{name} cites eq. ({number}), which docs/theory.md does not have")
            elif name not in listed[number]:
                problems.append(f"{name} cites eq. ({number}), whose **Code:** does not list it")
    return problems


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def check_links(markdown: str, theory_text: str) -> list[str]:
    """Every link `theory.md#anchor` points to a heading of the theory page."""
    anchors = {github_anchor(line.lstrip("#")) for line in theory_text.splitlines() if line.startswith("#")}
    return [
        f"link to theory.md#{a} matches no heading"
        for a in re.findall(r"\(theory\.md#([^)\s]+)\)", markdown)
        if a not in anchors
    ]


# ---------------------------------------------------------------------------------------------------
# The checks on the real files.


@pytest.fixture(scope="module")
def equations() -> list[Equation]:
    eqs, problems = parse_equations(THEORY.read_text())
    assert problems == []
    return eqs


def test_every_equation_names_existing_code_and_tests(equations):
    assert check_numbering(equations) == []
    assert len(equations) >= 30
    assert check_code(equations) == []
    assert check_tests(equations) == []
    assert all(eq.tests for eq in equations)


def test_every_code_reference_points_to_an_equation_that_lists_it(equations):
    callables = package_callables()
    assert len(callables) > 50  # the walk found the package
    assert check_citations(equations, callables) == []


def test_api_examples_run():
    result = doctest.testfile(
        str(API), module_relative=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
    assert result.attempted >= MIN_API_EXAMPLES


def test_api_links_point_to_equations():
    api = API.read_text()
    assert check_links(api, THEORY.read_text()) == []
    assert len(re.findall(r"\(theory\.md#", api)) >= 6


# ---------------------------------------------------------------------------------------------------
# The checks catch broken input.

GOOD = """# Title

## Chapter

### (1) Model

$$ x = 1 $$

**Code:** `signae.linalg.unit_rows` · **Tests:** `tests/test_population.py::test_isotropic_closed_form_matches_monte_carlo`

### (2) An argument

**Code:** none (argument only) · **Tests:** `tests/test_docs.py::test_every_equation_names_existing_code_and_tests`
"""


def _problems(text: str) -> list[str]:
    eqs, problems = parse_equations(text)
    return problems + check_numbering(eqs) + check_code(eqs) + check_tests(eqs)


def test_checks_pass_on_a_good_page():
    assert _problems(GOOD) == []
    eqs, _ = parse_equations(GOOD)
    assert [(e.number, e.code, len(e.tests)) for e in eqs] == [(1, ["signae.linalg.unit_rows"], 1), (2, [], 1)]


@pytest.mark.parametrize(
    "broken, expected",
    [
        (GOOD.replace("signae.linalg.unit_rows", "signae.population.no_such_function"), "has no attribute"),
        (GOOD.replace("signae.linalg.unit_rows", "signae.no_such_module.f"), "no attribute"),
        (GOOD.replace("signae.linalg.unit_rows", "numpy.sum"), "not a name in the signae package"),
        (GOOD.replace("signae.linalg.unit_rows", "signae.theory.pca_risk"), "does not cite 'eq. (1)'"),
        (GOOD.replace("test_isotropic_closed_form_matches_monte_carlo", "test_no_such_test"), "defines no top-level"),
        (GOOD.replace("tests/test_population.py", "tests/test_missing.py"), "does not exist"),
        (GOOD.replace("tests/test_population.py", "test_population.py"), "is not 'tests/<file>.py::test_<name>'"),
        (
            GOOD.replace("`tests/test_population.py::test_isotropic_closed_form_matches_monte_carlo`", "none"),
            "lists no test",
        ),
        (GOOD.replace("### (2)", "### (3)"), "numbered (3), expected (2)"),
        (GOOD.replace(" · **Tests:**", " **Tests:**"), "malformed reference line"),
        (GOOD.replace("**Code:** none (argument only) · ", "**Code:** nothing · "), "lists no `name`"),
        (
            GOOD + "\n**Code:** `signae.theory.pca_risk` · **Tests:** `tests/test_docs.py::test_api_examples_run`\n",
            "2 '**Code:** ... · **Tests:** ...' lines",
        ),
    ],
)
def test_checks_report_broken_pages(broken, expected):
    problems = _problems(broken)
    assert any(expected in p for p in problems), problems


def test_citation_check_reports_a_docstring_citing_the_wrong_equation():
    eqs, _ = parse_equations(GOOD)

    def listed():
        """Cites docs/theory.md eq. (1), which lists it."""

    def unlisted():
        """Cites docs/theory.md eq. (1), which does not list it, and eq. (7), which does not exist."""

    problems = check_citations(eqs, [("signae.linalg.unit_rows", listed), ("signae.x.unlisted", unlisted)])
    assert problems == [
        "signae.x.unlisted cites eq. (1), whose **Code:** does not list it",
        "signae.x.unlisted cites eq. (7), which docs/theory.md does not have",
    ]


def test_link_check_reports_a_dangling_anchor():
    assert github_anchor("### (9) The fundamental limit R*(r)".lstrip("#")) == "9-the-fundamental-limit-rr"
    assert check_links("[x](theory.md#1-model)", GOOD) == []
    assert check_links("[x](theory.md#1-models)", GOOD) == ["link to theory.md#1-models matches no heading"]


# ---------------------------------------------------------------------------------------------------
# Numerical checks of formulas of docs/theory.md, each against an independent computation.


def test_sign_code_ignores_row_norms_and_test_loss_is_the_empirical_risk():
    """Eq. (1): the risk depends on B only through its unit rows; test_loss is the mean of
    ||x - A sign(V z)||^2 / d over a split (checked with numpy)."""
    rng = np.random.default_rng(0)
    d, n, N = 9, 6, 500
    B = rng.standard_normal((n, d))
    A = torch.as_tensor(rng.standard_normal((d, n)))
    scales = rng.uniform(0.1, 10.0, (n, 1))
    Bt, Bs = torch.as_tensor(B), torch.as_tensor(B * scales)
    assert float(population.risk(A, Bs)) == pytest.approx(float(population.risk(A, Bt)), abs=1e-13)
    for unit in (linalg.unit_rows(Bt).numpy(), linalg.unit_rows(B * scales)):
        assert np.allclose(unit, B / np.linalg.norm(B, axis=1, keepdims=True))
    Z, X = rng.standard_normal((N, d)), rng.standard_normal((N, 4))
    A4 = rng.standard_normal((4, n))
    expected = np.mean(np.sum((X - np.sign(Z @ B.T) @ A4.T) ** 2, axis=1)) / 4
    got = real_source.test_loss(
        torch.as_tensor(A4), torch.as_tensor(B), torch.as_tensor(Z), torch.as_tensor(X), chunk=128
    )
    assert got == pytest.approx(expected, rel=1e-12)


def test_arcsine_moments_against_monte_carlo():
    """Eq. (2): E[x sign(Bx)^T] = sqrt(2/pi) K and E[sign(Bx) sign(Bx)^T] = (2/pi) arcsin(C), Sigma general."""
    rng = np.random.default_rng(1)
    d, n, N = 6, 4, 200_000
    Sigma = spectra.covariance(spectra.spectrum("power_law", d, exponent=1.0), seed=3)
    B = rng.standard_normal((n, d))
    X = spectra.draw(Sigma, d, N, seed=4)
    S = np.sign(X @ B.T)
    mom = population.SecondMoments(torch.as_tensor(B), torch.as_tensor(Sigma))
    for samples, exact in (
        (X[:, :, None] * S[:, None, :], math.sqrt(2 / math.pi) * mom.cross.numpy()),
        (S[:, :, None] * S[:, None, :], (2 / math.pi) * mom.gram.numpy()),
    ):
        mean, se = samples.mean(axis=0), samples.std(axis=0) / math.sqrt(N) + 1e-12
        assert np.max(np.abs(mean - exact) / se) < 5


def test_tied_risk_closed_form():
    """Eq. (7): 1 - 2 sqrt(2/pi) beta r + (2/pi) beta^2 tr(arcsin(G) G) / d, in numpy."""
    rng = np.random.default_rng(2)
    d, n, beta = 30, 45, 0.41
    B = rng.standard_normal((n, d))
    Bbar = B / np.linalg.norm(B, axis=1, keepdims=True)
    G = Bbar @ Bbar.T
    S = np.arcsin(G - np.diag(np.diag(G))) + (math.pi / 2) * np.eye(n)  # diagonal exactly pi/2 (eq. (2))
    expected = 1 - 2 * math.sqrt(2 / math.pi) * beta * n / d + (2 / math.pi) * beta**2 * np.trace(S @ G) / d
    got = population.tied_risk(torch.tensor(beta, dtype=torch.float64), torch.as_tensor(B))
    assert float(got) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("r", [0.5, 2.0])
def test_spectral_form_of_the_encoder_risk(r):
    """Eq. (8): the exact encoder risk is (1/d) sum_i c / (m_i + c) up to O(1/d), for a Gaussian encoder
    and for the optimal frame (orthogonal rows for r <= 1, where it is exact; a tight frame for r > 1)."""
    d = 200
    n = int(r * d)
    rotation = linalg.haar_rotation(max(n, d), seed=5)
    frame = rotation[:n, :d] if n <= d else rotation[:, :d]  # orthonormal rows, or a tight frame
    for B, tol in (
        (train.gaussian_init(n, d, 1, torch.device("cpu")).numpy(), 2e-3),
        (frame, 2e-3 if r > 1 else 1e-12),
    ):
        Bbar = B / np.linalg.norm(B, axis=1, keepdims=True)
        m = np.clip(np.linalg.eigvalsh(Bbar.T @ Bbar), 0, None)
        spectral = np.mean(theory.C_SIGN / (m + theory.C_SIGN))
        assert float(population.encoder_risk(torch.as_tensor(B))) == pytest.approx(spectral, abs=tol)


@pytest.mark.parametrize("r", [0.5, 2.0])
def test_mp_density_matches_simulated_spectrum(r):
    """Eq. (16): the density integrates to 1 and its CDF matches the spectrum of a simulated Gaussian
    initialisation (Kolmogorov distance at d = 400, about 1/n of finite-size and edge error)."""
    d = 400
    n = int(r * d)
    x, p = theory.marchenko_pastur_density(r, points=4001)
    cdf = np.concatenate([[0.0], np.cumsum((p[1:] + p[:-1]) / 2 * np.diff(x))])
    assert cdf[-1] == pytest.approx(1.0, abs=0.01)  # the two end intervals are left out
    spectrum = np.sort(evaluate.frame_spectrum(train.gaussian_init(n, d, 0, torch.device("cpu")).numpy()))
    empirical = np.searchsorted(spectrum, x, side="right") / spectrum.size
    assert np.max(np.abs(empirical - cdf)) < 0.03


@pytest.mark.parametrize("r", [0.5, 2.0])
def test_tied_curvature_at_gaussian_init(r):
    """Eq. (20): d^2 R_tied / d beta^2 at a Gaussian initialisation is about 2r + 4r^2/pi (autograd)."""
    d = 400
    B = train.gaussian_init(int(r * d), d, 0, torch.device("cpu"))
    beta = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(population.tied_risk(beta, B), beta, create_graph=True)
    (curvature,) = torch.autograd.grad(grad, beta)
    assert float(curvature) == pytest.approx(2 * r + 4 * r**2 / math.pi, rel=0.01)


@pytest.mark.parametrize("estimator", train.ESTIMATORS)
def test_surrogate_loss_is_variable_projection(estimator):
    """Eq. (21): the loss is the ridge least-squares minimum over the batch decoder (numpy, tanh
    features), and its gradient is that of the loss with the decoder held at its optimum (envelope)."""
    rng = np.random.default_rng(3)
    N, k, d, n, s, ridge = 3000, 10, 7, 5, 2.5, 1e-3
    Z, X = torch.as_tensor(rng.standard_normal((N, k))), torch.as_tensor(rng.standard_normal((N, d)))
    V = torch.as_tensor(rng.standard_normal((n, k))).requires_grad_()
    loss = train.surrogate_loss(Z, X, V, s, ridge, estimator)
    if estimator == "tanh":
        Vbar = V.detach().numpy() / np.linalg.norm(V.detach().numpy(), axis=1, keepdims=True)
        F = np.tanh(s * Z.numpy() @ Vbar.T)
        W = np.linalg.solve(F.T @ F / N + ridge * np.eye(n), F.T @ X.numpy() / N)
        penalised = (np.sum((X.numpy() - F @ W) ** 2) / N + ridge * np.sum(W**2)) / d
        assert loss.item() == pytest.approx(penalised, rel=1e-10)
    (grad,) = torch.autograd.grad(loss, V)

    Vf = V.detach().clone().requires_grad_()
    P = Z @ linalg.unit_rows(Vf).T
    F = torch.tanh(s * P)
    if estimator == "ste":
        F = torch.sign(P) + (F - F.detach())
    Fd = F.detach()
    W = torch.linalg.solve(Fd.T @ Fd / N + ridge * torch.eye(n, dtype=Fd.dtype), Fd.T @ X / N)  # held fixed
    fixed = (((X - F @ W) ** 2).sum() / N + ridge * (W**2).sum()) / d
    (grad_fixed,) = torch.autograd.grad(fixed, Vf)
    assert float(torch.linalg.norm(grad - grad_fixed) / torch.linalg.norm(grad_fixed)) < 1e-8


def test_sharpening_schedule():
    """Eq. (22): s_t = s0 (s1/s0)^(t/(T-1)), step multiplier (1 + cos(pi t/(T-1))) / 2."""
    T, (s0, s1) = 11, (1.0, 6.0)
    for t in range(T):
        s, decay = train.sharpening(t, T, (s0, s1))
        assert s == pytest.approx(s0 * (s1 / s0) ** (t / (T - 1)), rel=1e-14)
        assert decay == pytest.approx((1 + math.cos(math.pi * t / (T - 1))) / 2, abs=1e-15)
    assert train.sharpening(0, T, (s0, s1)) == (1.0, 1.0)
    assert train.sharpening(T - 1, T, (s0, s1))[0] == pytest.approx(6.0)


def test_least_squares_decoder_against_lstsq_and_optimal_decoder():
    """Eq. (23): the chunked fit equals the ridge normal equations in numpy, and on many Gaussian
    samples it approaches A*(B) of eq. (5)."""
    rng = np.random.default_rng(4)
    d, n, N = 8, 12, 100_000
    B = rng.standard_normal((n, d))
    X = rng.standard_normal((N, d))
    F = np.sign(X @ B.T)
    chunks = ((torch.as_tensor(F[i : i + 7000]), torch.as_tensor(X[i : i + 7000])) for i in range(0, N, 7000))
    A = train.fit_decoder(chunks).numpy()
    gram = F.T @ F
    expected = np.linalg.solve(gram + 1e-6 * np.trace(gram) / n * np.eye(n), F.T @ X).T
    assert np.allclose(A, expected, rtol=1e-9, atol=1e-12)
    A_star = population.optimal_decoder(torch.as_tensor(B)).numpy()
    assert np.linalg.norm(A - A_star) / np.linalg.norm(A_star) < 0.03  # sampling error ~ sqrt(n / N)


def test_spectra_and_haar_covariance():
    """Eq. (24): spectra descending with trace d and the stated shape; Haar eigenbasis; samples ~ N(0, Sigma)."""
    d = 60
    power = spectra.spectrum("power_law", d, exponent=0.5)
    assert power.sum() == pytest.approx(d) and np.all(np.diff(power) <= 0)
    assert power[0] / power[3] == pytest.approx(4**0.5)
    levels = spectra.spectrum("levels", d, levels=(4.0, 1.0, 0.25))
    assert levels.sum() == pytest.approx(d)
    assert np.allclose(levels[:20] / levels[20:40], 4) and np.allclose(levels[20:40] / levels[40:], 4)
    Q = linalg.haar_rotation(d, seed=7)
    assert np.allclose(Q @ Q.T, np.eye(d), atol=1e-12)
    assert np.mean(evaluate.axis_alignment(Q)) == pytest.approx(evaluate.random_rotation_alignment(d), rel=0.1)
    Sigma = spectra.covariance(levels, seed=7)
    assert np.allclose(np.sort(np.linalg.eigvalsh(Sigma))[::-1], levels)
    x = spectra.draw(Sigma, d, 20_000, seed=8)
    assert np.abs(x.T @ x / len(x) - Sigma).max() < 0.15  # sampling error of an entry <= 4 sqrt(2 / N) = 0.04


def test_water_filling_risk_of_a_designed_encoder():
    """Eqs. (26), (27), (31): the exact risk of the designed encoder (allocation m, random rotation) in
    whitened coordinates is the water-filling risk up to O(1/d)."""
    d = 200
    lam = spectra.spectrum("power_law", d, exponent=0.7)
    root = torch.as_tensor(np.diag(np.sqrt(lam)))
    for n in (50, 100, 200):
        wf = theory.water_filling(lam, n)
        V = real_source.designed_encoder(lam, d, n, seed=0)
        exact = float(population.whitened_encoder_risk(torch.as_tensor(V), root))
        assert exact == pytest.approx(wf.risk, rel=0.01)
        assert exact >= wf.risk - 1e-9


def test_block_average():
    """Eq. (28): values averaged over each run of equal eigenvalues, nothing else changed."""
    lam = np.array([4.0, 4.0, 4.0, 1.0, 0.5, 0.5])
    values = np.array([1.0, 2.0, 6.0, 7.0, 0.0, 1.0])
    assert np.allclose(tables.block_average(lam, values), [3.0, 3.0, 3.0, 7.0, 0.5, 0.5])


def test_real_data_prediction_is_the_gaussian_theory():
    """Eq. (30): n = max(1, round(r d)); R*(n/d) for the whitened variant, water-filling on the spectrum
    otherwise."""
    assert [theory.hidden_units(r, 784) for r in (0.125, 0.5, 1e-4)] == [98, 392, 1]
    assert theory.integer_units(0.25, 64) and not theory.integer_units(0.125, 10)
    lam = spectra.spectrum("power_law", 50, exponent=1.0)
    assert theory.variant_prediction("whitened", np.ones(50), 20) == pytest.approx(1 - 2 * 0.4 / math.pi, rel=1e-12)
    assert theory.variant_prediction("unwhitened", lam, 20) == pytest.approx(
        theory.water_filling(lam, 20).risk, rel=1e-12
    )


def test_tolerance_scaling():
    """Eq. (35): tol * max(1, d_ref / d)."""
    assert claims.scaled(0.01, 64, 256) == pytest.approx(0.04)
    assert claims.scaled(0.01, 256, 256) == pytest.approx(0.01)
    assert claims.scaled(0.01, 1024, 256) == pytest.approx(0.01)


def test_misallocated_fraction():
    """Eq. (36): sum |m_learned - m_pred| / sum m_pred, read from a figure-4 table."""
    pred, learned = np.array([3.0, 2.0, 1.0, 0.0]), np.array([2.5, 2.5, 0.5, 0.5])
    rows = [
        {
            "panel": "allocation",
            "series": series,
            "spectrum": "levels",
            "d": 256,
            "r": 0.5,
            "seed": 0,
            "index": i,
            "value": v,
        }
        for series, vals in (("predicted", pred), ("learned", learned))
        for i, v in enumerate(vals)
    ]
    (row,) = claims.allocation_claims(pd.DataFrame(rows), {"allocation": 0.1, "d_ref": 256})
    assert row["reproduced"] == pytest.approx(2.0 / 6.0)
    assert row["holds"] is False


def _rerun_rows() -> dict[str, dict[str, int]]:
    """docs/layout.md's rerun table: {module: {rule: jobs}}."""
    text = (ROOT / "docs" / "layout.md").read_text()
    block = text.split("<!-- BEGIN rerun-table -->", 1)[1].split("<!-- END rerun-table -->", 1)[0]
    rows = {}
    for m in re.finditer(r"^\| `(\w+\.py)` \| (\d+) \| (.*) \|$", block, re.M):
        jobs = dict(re.findall(r"(\w+) (\d+)", m[3])) if m[3] != "none" else {}
        rows[m[1]] = {rule: int(n) for rule, n in jobs.items()}
        assert sum(rows[m[1]].values()) == int(m[2]), m[0]
    return rows


def test_the_rerun_table_follows_the_stages_and_agrees_with_snakemakes_dry_runs():
    """docs/layout.md, "What an edit reruns": every module has its row; an edit of the data preparation reruns
    no Gaussian or sparse training, one of plotting only the plots, one of the table builders no training; and
    for those modules the rows are what Snakemake's dry runs plan today (signae.docs.reruns, default config)."""
    from signae import docs

    rows = _rerun_rows()
    assert set(rows) == {p.name for p in (ROOT / "src" / "signae").glob("*.py")}
    training = {"train", "train_sparse", "train_real"}
    assert not {"train", "train_sparse"} & set(rows["images.py"]) and rows["images.py"]
    assert set(rows["plotting.py"]) == {"figure_plot"}
    assert not training & set(rows["tables.py"]) and rows["tables.py"]
    assert not training & set(rows["claims.py"])
    fresh = docs.reruns(ROOT, modules=("images.py", "plotting.py", "tables.py"))
    for module in ("images.py", "plotting.py", "tables.py"):
        assert fresh[module] == rows[module], (module, fresh[module])
