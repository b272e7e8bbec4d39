"""Rule manifest: results/MANIFEST.sha256, the SHA-256 of every file a figure is built from
(signae.reporting)."""

from signae import provenance, reporting


def main(paths, output: str) -> None:
    with open(output, "w") as fh:
        fh.write(reporting.manifest(paths))


if __name__ == "__main__":
    sm = snakemake
    with provenance.job_log(sm.log[0], sm.output):
        main([p for p in sm.input if not p.startswith("src/")], sm.output[0])
