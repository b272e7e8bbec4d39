# Two-layer sign autoencoders: fundamental limits and gradient methods (Shevchenko et al., ICML 2023).
# `snakemake --cores all` regenerates every figure; see README.md. The science is in src/signae/,
# the rules here only say what depends on what.

import os
import time

from snakemake.utils import min_version, validate

from signae.config import explain_invalid

min_version("9.0")
STARTED = time.time()  # the end-of-run summary speaks only of a claims table built after this


# beside this Snakefile, wherever snakemake runs (results land in the working directory, as usual)
configfile: os.path.join(workflow.basedir, "config", "config.yaml")


try:
    validate(config, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml"))
except Exception as err:
    raise ValueError(explain_invalid(err, workflow.configfiles)) from err


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/decoders.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        FIGURE_FILES,
        paths.CLAIMS,
        paths.fill(paths.REPORT, name="claims.html"),
        paths.MANIFEST,


onstart:
    check_device()


onsuccess:
    print_summary(STARTED)
