"""The pipeline's configuration outside Snakemake: config/config.yaml with overlays, validated against
workflow/schemas/config.schema.yaml, so that workflow scripts also run on their own."""

from __future__ import annotations

from pathlib import Path

import yaml

DEFAULT = "config/config.yaml"
SCHEMA = "workflow/schemas/config.schema.yaml"


def merge(base: dict, overlay: dict) -> dict:
    """Nested dictionaries merged key by key, as Snakemake merges --configfile overlays."""
    out = dict(base)
    for key, value in overlay.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_config(overlays=(), root: str | Path = ".") -> dict:
    """config/config.yaml, then each overlay file in order, validated against the schema."""
    import jsonschema

    root = Path(root)
    config = yaml.safe_load((root / DEFAULT).read_text())
    for path in overlays:
        config = merge(config, yaml.safe_load(Path(path).read_text()) or {})
    jsonschema.validate(config, yaml.safe_load((root / SCHEMA).read_text()))
    return config


def explain_invalid(err: Exception) -> str:
    """A schema violation, with a hint for YAML's number pitfall: PyYAML reads ``1e-3`` (no dot) as a
    string, so write ``1.0e-3``."""
    text = str(err)
    hint = ""
    if "is not of type 'number'" in text or "is not of type 'integer'" in text:
        hint = (
            "\nHint: in YAML, 1e-3 without a dot is read as a string; write 1.0e-3 (or 0.001). "
            "Numbers in quotes are strings too."
        )
    return f"config error (workflow/schemas/config.schema.yaml):\n{text}{hint}"
