"""Rule train_real: sample-based training on a real data variant; loss on its test split (signae.real_source)."""

from signae import job, real_source, runs


def main(sm) -> None:
    spec = runs.RunSpec.from_wildcards(sm.wildcards)
    result, meta = real_source.run(spec, sm.input.npz, sm.input.json, sm.params.settings, sm.params.device)
    runs.save(result, {**meta, "rule": sm.rule}, sm.output.npz, sm.output.json)
    print(
        f"{spec.source}/{spec.variant} r={meta['r']:.4f} (n={meta['n']}, d={meta['d']}): test {meta['final_loss']:.5f},"
        f" train {meta['train_loss']:.5f}, predicted {meta['predicted_loss']:.5f}, {meta['wall_time_s']:.1f} s"
    )


if __name__ == "__main__":
    job.run(main, "train_real", globals())
