"""Rule figure_table: the tidy CSV behind one figure, by the builder the figure registry names (signae.registry,
signae.tables)."""

from signae import job, registry


def main(sm) -> None:
    missing = set(registry.flatten(sm.params.inputs)) - set(sm.input)
    if missing:  # the inputs Snakemake checked are the ones the builder reads
        raise RuntimeError(
            f"{sm.wildcards.figure}: the rule did not declare inputs the builder reads: {sorted(missing)}"
        )
    table = registry.resolve(sm.params.builder)(**sm.params.inputs, **sm.params.settings)
    registry.check_finite(table, sm.output[0])
    table.to_csv(sm.output[0], index=False)
    print(f"{sm.wildcards.figure}: {len(table)} rows -> {sm.output[0]}")


if __name__ == "__main__":
    job.run(main, "figure_table", globals())
