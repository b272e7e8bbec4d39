"""The pipeline's configuration outside Snakemake: config/config.yaml with overlays, validated against
workflow/schemas/config.schema.yaml, so that workflow scripts also run on their own.

``python -m signae.config [OVERLAY.yaml ...]`` checks config files the way the workflow reads them and
names the file, line and key of the first problem (Snakemake's own message for a YAML syntax error names
neither)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

DEFAULT = "config/config.yaml"
SCHEMA = "workflow/schemas/config.schema.yaml"


class ConfigError(ValueError):
    """A config file that cannot be read or does not match the schema; the message names file and key."""


def merge(base: dict, overlay: dict) -> dict:
    """Nested dictionaries merged key by key, as Snakemake merges --configfile overlays."""
    out = dict(base)
    for key, value in overlay.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def read_yaml(path: str | Path) -> dict:
    """One config file; a syntax error names the file and line, a file that is not a mapping is refused."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"config error: {path}{where}: not valid YAML ({problem})") from err
    except OSError as err:
        raise ConfigError(f"config error: cannot read {path} ({err.strerror or err})") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config error: {path} must hold a mapping of keys (like config/config.yaml)")
    return data


def explain_invalid(err: Exception, files=()) -> str:
    """A schema violation in a few lines: the key (dotted), the value, what the schema wants and, for a
    number written so that YAML reads it as a string (``1e-3`` has no dot), the fix. ``files``: the config
    files that were merged, named so that the user knows where to look."""
    import jsonschema

    found = err if isinstance(err, jsonschema.ValidationError) else None
    cause = err.__cause__ or err.__context__
    if found is None and isinstance(cause, jsonschema.ValidationError):
        found = cause
    where = f" (merged from {', '.join(map(str, files))})" if files else ""
    if found is None:  # not a schema violation we can take apart: the original text
        return f"config error{where}:\n{err}"
    key = ".".join(map(str, found.absolute_path)) or "(top level)"
    lines = [f"config error{where}: {key}: {found.message}"]
    if found.validator == "additionalProperties" and isinstance(found.schema.get("properties"), dict):
        lines.append(f"  known keys here: {', '.join(sorted(found.schema['properties']))}")
    description = found.schema.get("description") if isinstance(found.schema, dict) else None
    if description:
        lines.append(f"  {key}: {description}")
    if found.validator == "type" and isinstance(found.instance, str) and _number_like(found.instance):
        if isinstance(yaml.safe_load(found.instance), int | float):  # a number YAML reads as one: it came as text
            lines.append(
                f"  Hint: {found.instance} reached the config as text: snakemake --config reads the values inside a "
                f"mapping as text. Write the change in a YAML file and pass it with --configfile instead, e.g. "
                f"a file holding '{key.split('.')[0]}: ...' with only the keys you change."
            )
        else:
            lines.append(
                f"  Hint: YAML reads {found.instance} as a string (1e-3 without a dot is not a number in YAML); "
                "write 1.0e-3 (or 0.001), without quotes."
            )
    lines.append(f"  The schema: {SCHEMA}")
    return "\n".join(lines)


def _number_like(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_config(overlays=(), root: str | Path = ".") -> dict:
    """config/config.yaml, then each overlay file in order, validated against the schema."""
    import jsonschema

    root = Path(root)
    files = [root / DEFAULT, *map(Path, overlays)]
    config = {}
    for path in files:
        config = merge(config, read_yaml(path))
    try:
        jsonschema.validate(config, yaml.safe_load((root / SCHEMA).read_text()))
    except jsonschema.ValidationError as err:
        raise ConfigError(explain_invalid(err, files)) from err
    check_consistency(config)
    return config


def check_choice(value: str, allowed, what: str) -> None:
    """A name given on a script's command line (a data set, a variant, a figure) must be one the pipeline
    knows; otherwise a :class:`ConfigError` lists them."""
    if value not in allowed:
        raise ConfigError(f"unknown {what} {value!r}; one of {', '.join(allowed)}")


def _rates(config: dict) -> list[tuple[str, float]]:
    """(key, value) of every rate r and sparsity p in the config: each names result files (paths.number)."""
    rd = config["realdata"]
    lists = {
        "limit.r": config["limit"]["r"],
        "dynamics.r": config["dynamics"]["r"],
        "covariance.r": config["covariance"]["r"],
        "sparse.r": config["sparse"]["r"],
        "sparse.p": config["sparse"]["p"],
        "realdata.r": rd["r"],
        "realdata.structure.r": rd["structure"]["r"],
        "realdata.reconstructions.r": rd["reconstructions"]["r"],
    }
    return [(key, v) for key, values in lists.items() for v in values]


def check_consistency(config: dict) -> None:
    """What the schema cannot say about a schema-valid config: keys that must agree with each other. Raises
    :class:`ConfigError` naming the keys and the fix, before any job runs (the Snakefile calls it at parse
    time, :func:`load_config` for scripts run on their own)."""
    import re

    from .paths import number
    from .theory import integer_units

    def fail(message: str) -> None:
        raise ConfigError(f"config error: {message}")

    for key, v in _rates(config):  # a file name must carry the value exactly, in the rules' patterns
        text = number(v)
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) or float(text) != float(v):
            fail(
                f"{key} contains {v}, which a result's file name cannot carry exactly (it would read {text!r});"
                " use at most 6 significant digits and a value of at least 1e-4"
            )
    pairs = [  # Gaussian runs: r d hidden units must be an integer (r is then the realised rate)
        ("limit.r", r, d, "limit.runs.*.d")
        for spec in config["limit"]["runs"].values()
        for d in spec["d"]
        for r in config["limit"]["r"]
    ]
    pairs += [("limit.r", r, config["limit"]["untrained"]["d"], "limit.untrained.d") for r in config["limit"]["r"]]
    pairs += [("dynamics.r", r, config["dynamics"]["d"], "dynamics.d") for r in config["dynamics"]["r"]]
    pairs += [("covariance.r", r, config["covariance"]["d"], "covariance.d") for r in config["covariance"]["r"]]
    pairs += [("sparse.r", r, d, "sparse.d") for d in config["sparse"]["d"] for r in config["sparse"]["r"]]
    for rkey, r, d, dkey in pairs:
        if not integer_units(r, d):
            fail(
                f"{rkey} contains r = {r}, and r * d = {r * d:g} hidden units is not an integer for d = {d} "
                f"({dkey}); choose d divisible by 1/r or another r"
            )
    extra = sorted(set(config["sparse"]["depth"]["d"]) - set(config["sparse"]["d"]))
    if extra:
        fail(
            f"sparse.depth.d contains {extra}, which sparse.d = {config['sparse']['d']} does not train; use d "
            "values of sparse.d (or [] for no deep decoder)"
        )
    mp = config["sparse"]["message_passing"]
    if mp["d"] and mp["learned"]["d"] not in mp["d"]:
        fail(
            f"sparse.message_passing.learned.d is {mp['learned']['d']}, which sparse.message_passing.d = {mp['d']} "
            "does not run (the learned decoder is compared with the unrolled one at the same d); use one of them"
        )
    named = [("limit.runs", t) for t in config["limit"]["runs"]] + [
        ("dynamics.trainers", t) for t in config["dynamics"]["trainers"]
    ]
    for key, trainer in named:
        if trainer not in config["trainers"]:
            fail(
                f"{key} names the trainer {trainer!r}, which section trainers does not set; known: "
                f"{', '.join(config['trainers'])} (a new trainer: docs/layout.md, 'Adding a trainer')"
            )
    if config["features"]["trainer"] not in config["dynamics"]["trainers"]:
        fail(
            f"features.trainer is {config['features']['trainer']!r}, which dynamics.trainers = "
            f"{config['dynamics']['trainers']} does not train (figure 3 draws figure 2's runs); add it there or "
            "choose one of them"
        )
    rd = config["realdata"]
    from .datasets import DATASETS

    known = ", ".join(n for n in DATASETS if n in config["datasets"])
    pairs = [("realdata.datasets", n) for n in rd["datasets"]]
    pairs += [("realdata.structure.datasets", n) for n in rd["structure"]["datasets"]]
    for key, name in pairs:
        if name not in DATASETS or name not in config["datasets"]:
            where = "signae.datasets.DATASETS" if name not in DATASETS else "section datasets"
            fail(
                f"{key} contains {name!r}, which {where} does not know; known: {known} "
                "(docs/layout.md, 'Adding a data set')"
            )
    unknown = sorted(set(config["datasets"]) - set(DATASETS) - {"download_root"})
    if unknown:
        fail(f"datasets.{unknown[0]} names a data set that signae.datasets.DATASETS does not know; known: {known}")
    if rd["datasets"]:
        missing = sorted(set(rd["structure"]["r"]) - set(rd["r"]))
        drawn = "unwhitened" in rd["variants"] and set(rd["structure"]["datasets"]) & set(rd["datasets"])
        if missing and drawn:  # figure 9 is drawn (signae.registry.structure_files)
            fail(
                f"realdata.structure.r contains {missing}, which realdata.r = {rd['r']} does not train (figure 9 "
                "examines figure 5's runs); use r values of realdata.r"
            )
        if rd["trainer"]["select"] == "validation" and not rd["validation_samples"]:
            fail(
                "realdata.trainer.select is 'validation' (early stopping) but realdata.validation_samples is 0; "
                "hold out some training images or set select: last"
            )
        train, held = rd["train_samples"], rd["validation_samples"]
        if train is not None and train - held < 100:
            fail(
                f"realdata.validation_samples = {held} leaves {train - held} of realdata.train_samples = {train} "
                "for training; keep at least 100 (lower validation_samples or raise train_samples)"
            )
        images, tests = rd["reconstructions"]["images"], rd["test_samples"]
        if tests is not None and images > tests:
            fail(
                f"realdata.reconstructions.images = {images} is more than realdata.test_samples = {tests} "
                "(figure 6 shows test images); lower the first or raise the second"
            )


def main(argv: list[str]) -> int:
    try:
        config = load_config(argv)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"valid: {', '.join([DEFAULT, *argv])}; seed {config['seed']}, device {config['device']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
