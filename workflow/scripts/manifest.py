"""Rule manifest: results/MANIFEST.sha256, the SHA-256 of every file a figure is built from."""

import sys

from signae import reporting

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

open(sm.output[0], "w").write(reporting.manifest(list(sm.input)))
