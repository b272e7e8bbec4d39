"""Rule manifest: results/MANIFEST.sha256, the SHA-256 of every file a figure is built from (signae.reporting)."""

from signae import job, reporting


def main(sm) -> None:
    with open(sm.output[0], "w") as fh:
        fh.write(reporting.manifest(list(sm.input)))


if __name__ == "__main__":
    job.run(main, "manifest", globals())
