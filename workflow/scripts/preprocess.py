"""Rule preprocess: one variant (unwhitened / whitened) of a data set, fitted on its training split
(signae.images)."""

from signae import images, job


def main(sm) -> None:
    p = sm.params
    x_train, x_test, source = images.load_images(sm.input.npz, sm.input.json, p.train_samples, p.test_samples)
    try:
        prep = images.preprocess(
            x_train, x_test, sm.wildcards.variant, p.floor, grayscale=p.grayscale, validation=p.validation_samples
        )
    except ValueError as err:  # a fault of the data: name the file it came from
        raise ValueError(f"{sm.input.npz} (from {source.get('path')}): {err}") from err
    record = {"dataset": sm.wildcards.dataset, "variant": sm.wildcards.variant, "source": source.get("source")}
    images.save_prepared(prep, sm.output.npz, sm.output.json, **record, source_sha256=source["arrays_sha256"])
    print(prep.info)


if __name__ == "__main__":
    job.run(main, "preprocess", globals())
