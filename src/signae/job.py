"""One job of the workflow, as its script sees it: the ``snakemake`` object (input, output, params, wildcards,
threads, log), whether Snakemake runs the script or it runs on its own, and what the job does around the
script's ``main``: its log, the check that the run that started it is still there, and the version of each
output it keeps (docs/faults.md).

Every script in workflow/scripts/ ends with ``job.run(main, "<rule>", globals())``. Under Snakemake, ``main``
gets the object Snakemake hands the script. Run on its own,

    python workflow/scripts/<script>.py [TARGET | name=value ...] [OVERLAY.yaml ...]

builds the same object from the rule (:func:`mock`, after PyPSA-Eur's ``mock_snakemake``): the workflow is read
with the config files given, and the job is the rule's job that writes TARGET (a path of one of its outputs)
or that has the wildcards ``name=value``. So a script never computes a path or maps a config key itself: it
reads what its rule hands it, in both cases alike.
"""

from __future__ import annotations

import contextlib
import copy
import os
import platform
import re
import sys
import traceback
from pathlib import Path

# The snakemake process that starts the jobs, as "host:pid:start" (set by the Snakefile in the main process,
# inherited by every job it starts). A job whose starter has ended is an orphan (docs/faults.md).
WORKFLOW_VARIABLE = "SIGNAE_WORKFLOW"


class OrphanedJob(RuntimeError):
    """The snakemake run that started this job has ended while the job ran."""


def _process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot, /proc/PID/stat field 22), None when no
    such process exists or /proc is not there. With the pid it names a process uniquely (pids are reused)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def workflow_token() -> str:
    """This process as "host:pid:start", the value of $SIGNAE_WORKFLOW for the jobs it starts."""
    return f"{platform.node()}:{os.getpid()}:{_process_start(os.getpid())}"


def check_workflow_alive() -> None:
    """Raise OrphanedJob when the snakemake process named by $SIGNAE_WORKFLOW has ended (killed alone, its
    job went on). Nothing to check without the variable (a script run on its own), on another host (a
    cluster job: its starter is on the login node) or without /proc."""
    token = os.environ.get(WORKFLOW_VARIABLE)
    if not token:
        return
    host, pid, start = token.rsplit(":", 2)
    if host != platform.node() or start == "None":
        return
    if _process_start(int(pid)) != start:
        raise OrphanedJob(
            f"the snakemake run that started this job (pid {pid}) has ended while the job ran; its outputs are "
            "discarded, never moved into results/ (a later run may have made them with other settings). "
            "Run snakemake again to remake what is missing."
        )


def _stop_own_job_process() -> None:
    """Kill the nearest ancestor that is a snakemake process: in an orphaned local job it is the job's own
    snakemake, which would otherwise move the job's shadow outputs into results/ or, seeing the job fail,
    delete the results a later run put there. Its shadow directory stays (--cleanup-shadow removes it)."""
    import signal

    pid = os.getppid()
    while pid > 1:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return
        if b"snakemake" in cmdline:
            os.kill(pid, signal.SIGKILL)
            return
        pid = parent


# Where the last good version of every output is kept, under its own relative path (hard links, so free on
# disk until an output is replaced): a rerun that fails or is killed loses nothing (docs/faults.md).
PREVIOUS = Path(".previous")
WORKDIR_VARIABLE = "SIGNAE_WORKDIR"


def workdir() -> Path:
    """The workflow's directory (set by the Snakefile for its jobs; a job may run in a shadow directory)."""
    return Path(os.environ.get(WORKDIR_VARIABLE) or os.getcwd())


def keep_previous(outputs, root: str | Path | None = None) -> list[Path]:
    """Copy each finished output (a path relative to the job's directory) to the same path under
    ``root/.previous/``, replacing the version kept before. Snakemake deletes a job's outputs when the job
    starts; this copy is how the last good version survives a rerun that then fails. A copy, not a link: an
    output edited in place afterwards leaves its kept version as it was."""
    import shutil

    root = workdir() if root is None else Path(root)
    kept = []
    for out in map(Path, outputs):
        if out.is_absolute() or not out.is_file():
            continue
        dest = root / PREVIOUS / out
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.unlink(missing_ok=True)
        shutil.copy2(out, tmp)
        os.replace(tmp, dest)
        kept.append(dest)
    return kept


@contextlib.contextmanager
def job_log(path: str | Path):
    """Send a workflow job's prints and its traceback, if it fails, to its log file (then re-raise)."""
    with open(path, "w") as log:
        out, err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = log
        try:
            yield log
        except BaseException:
            traceback.print_exc(file=log)
            raise
        finally:
            sys.stdout, sys.stderr = out, err


@contextlib.contextmanager
def standalone(outputs):
    """A workflow script run on its own (not by Snakemake) writes its rule's usual ``outputs`` (paths relative
    to the working directory, the workflow's). As Snakemake does, their folders are made and each existing
    output is moved aside first, its version kept in .previous/ (:func:`keep_previous`), so that the new one is
    a new file; if the script then fails, the kept version is put back, so nothing already computed is lost.
    Snakemake's records still describe the kept version until the rule is rerun through snakemake
    (docs/layout.md)."""
    import shutil

    outputs = [Path(o) for o in outputs]
    absolute = [str(o) for o in outputs if o.is_absolute()]
    if absolute:
        raise ValueError(f"standalone outputs must be relative to the workflow directory, got {absolute}")
    existed = {out for out in outputs if out.is_file()}
    pairs = []  # (output, its kept version), each output unlinked only once its version is kept
    try:
        for out in outputs:
            out.parent.mkdir(parents=True, exist_ok=True)  # as Snakemake makes them
            if out.is_file():
                (prev,) = keep_previous([out], root=Path.cwd())
                out.unlink()
                pairs.append((out, prev))
                print(f"replacing {out}; the version before is kept in {prev}", file=sys.stderr)
        yield
    except BaseException:
        moved = {out for out, _ in pairs}
        for out in outputs:
            if out in moved or out not in existed:
                out.unlink(missing_ok=True)  # no half-written new result is left behind
        for out, prev in pairs:
            try:
                os.link(prev, out)  # nothing already computed is lost
            except OSError:
                shutil.copy2(prev, out)
        raise


# --- the harness ------------------------------------------------------------------------------------


def run(main, rule: str, namespace: dict) -> None:
    """Run a workflow script's ``main(snakemake)`` as one job of ``rule``: with the object Snakemake put in the
    script's ``namespace`` (its globals), its prints and traceback in the job's log (:func:`job_log`); or, run on
    its own, with the object :func:`mock` builds from the command line, replacing the rule's outputs as
    :func:`standalone` does. torch's threads (and deterministic kernels, where the rule's params ask for them)
    are set first when the script's code uses torch."""
    if "snakemake" in namespace:
        sm = namespace["snakemake"]
        with job_log(sm.log[0]):
            _set_threads(sm)
            _custody(main, sm, workdir())
            for kept in keep_previous(list(sm.output)):
                print(f"kept a copy of the result in {kept}")
        return
    try:
        sm = mock(rule, sys.argv[1:])
    except Exception as err:  # a wrong command line or config: the message, not a traceback
        sys.exit(f"{type(err).__name__}: {err}")
    missing = [str(path) for path in sm.input if not Path(path).exists()]
    if missing:
        sys.exit(
            f"the job's inputs are not there yet ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}): "
            f"make them first, e.g. snakemake --cores all {missing[0]} (with the same config files)"
        )
    with standalone(list(sm.output)):
        _set_threads(sm)
        _custody(main, sm, Path.cwd())


RECORD = "record_"  # the name of an output's record among a rule's outputs (workflow/rules/common.smk, recorded)


def _custody(main, sm, root: Path) -> None:
    """Run ``main`` inside the chain of custody (signae.custody): every result the job reads is verified against
    its record first; the script writes its outputs under temporary names; then, if the snakemake run that
    started the job is still there (an orphaned job stops its own job process instead: nothing it made reaches
    the results), each output's record is written and each output moved into place.
    ``root``: the workflow's folder, where the records of the inputs are (a job may run in a shadow folder)."""
    from snakemake.iocontainers import OutputFiles

    from . import custody

    inputs = {str(p): custody.verify(str(p), root) for p in sm.input if custody.is_result(str(p))}
    outputs = {name: str(path) for name, path in sm.output.items() if not name.startswith(RECORD)}
    staged = {name: _staged(path) for name, path in outputs.items()}
    for path in staged.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    view = copy.copy(sm)
    view.output = OutputFiles(fromdict=staged)  # the script writes here; its files move into place below
    try:
        main(view)
        missing = [outputs[name] for name, path in staged.items() if not Path(path).is_file()]
        if missing:
            raise RuntimeError(f"rule {sm.rule} did not write {missing}")
        job = custody.job_record(sm, inputs)
        try:
            check_workflow_alive()
        except OrphanedJob:
            _stop_own_job_process()
            raise
        for name, path in outputs.items():
            custody.write(path, staged[name], sm.output[RECORD + name], job)
            os.replace(staged[name], path)
    finally:
        for path in staged.values():
            Path(path).unlink(missing_ok=True)


def _staged(path: str) -> str:
    """The temporary name an output is written under: beside it, its suffix kept (matplotlib and numpy choose
    the format from it)."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}.partial{p.suffix}"))


def _set_threads(sm) -> None:
    if "torch" in sys.modules:  # the script's own imports decide; a job without torch never imports it
        from .device import set_threads

        set_threads(sm.threads, bool(getattr(sm.params, "deterministic", False)))


class UsageError(ValueError):
    """A script run on its own was given a target, wildcard or file it cannot use; the message says what it
    accepts."""


def parse_argv(argv: list[str]) -> tuple[list[str], dict[str, str], list[str]]:
    """(targets, wildcards, config overlays) of a script's command line: paths ending in .yaml or .yml are
    config overlays, ``name=value`` a wildcard, anything else a target file."""
    targets, wildcards, overlays = [], {}, []
    for arg in argv:
        if arg.endswith((".yaml", ".yml")):
            overlays.append(arg)
        elif "=" in arg:
            name, value = arg.split("=", 1)
            wildcards[name] = value
        else:
            targets.append(arg)
    return targets, wildcards, overlays


def mock(rule_name: str, argv: list[str], snakefile: str | Path = "Snakefile"):
    """The ``snakemake`` object of one job of ``rule_name``, built from the workflow as Snakemake would build it
    (``argv``: :func:`parse_argv`); run from the folder of ``snakefile`` (the repository root)."""
    from snakemake.api import SnakemakeApi
    from snakemake.dag import DAG
    from snakemake.jobs import Job
    from snakemake.script import Snakemake
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings

    targets, wildcards, overlays = parse_argv(argv)
    usage = f"usage: python {sys.argv[0]} [TARGET | name=value ...] [OVERLAY.yaml ...] (docs/layout.md)"
    if not Path(snakefile).is_file():
        raise UsageError(f"no {snakefile} here: run the script from the repository root. {usage}")
    missing = [f for f in overlays if not Path(f).is_file()]
    if missing:
        raise UsageError(f"config file {missing[0]} does not exist. {usage}")
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[Path(f) for f in overlays]),
            snakefile=Path(snakefile),
            workdir=Path.cwd(),
        )._workflow
        workflow.dag_settings = DAGSettings()
        rule = workflow.get_rule(rule_name)
        outputs = [re.sub(r"{(\w+),[^}]*}", r"{\1}", str(o)) for o in rule.output]  # without their constraints
        patterns = ", ".join(outputs)
        if len(targets) > 1:
            raise UsageError(f"one target at a time, got {targets}. {usage}")
        if targets:
            found = _match(outputs, targets[0])
            if found is None:
                raise UsageError(f"rule {rule_name} does not write {targets[0]}; its outputs: {patterns}. {usage}")
            wildcards = {**found, **wildcards}
        names = set(rule.wildcard_names)
        if set(wildcards) != names:
            raise UsageError(
                f"rule {rule_name} needs the wildcards {sorted(names) or 'none'}, got {sorted(wildcards) or 'none'}:"
                f" give a file it writes ({patterns}) or name=value for each. {usage}"
            )
        known = workflow.modifier.wildcard_constraints  # the Snakefile's, for every rule
        for name, value in wildcards.items():
            allowed = known.get(name)
            if allowed and not re.fullmatch(allowed, value):
                raise UsageError(f"{name}={value} is not one the workflow knows: {allowed.replace('|', ', ')}. {usage}")
        job = Job(rule, DAG(workflow, rules=[rule]), wildcards)
        return Snakemake(
            job.input, job.output, job.params, job.wildcards, job.threads, job.resources, job.log,
            workflow.config, rule.name, None,
        )  # fmt: skip


def _match(patterns: list[str], path: str) -> dict[str, str] | None:
    """The wildcards of ``path`` under the first of ``patterns`` it fits, each wildcard any text without a
    slash (whether the workflow knows the values is checked after, naming the one it does not)."""
    for pattern in patterns:
        parts = re.split(r"({\w+})", pattern)
        body = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
        m = re.fullmatch(body, path)
        if m:
            return m.groupdict()
    return None
