"""Rule deep_decoder: a decoder with one hidden nonlinear layer on the encoder of one sparse run
(signae.deep_decoder) -> JSON with its test loss beside the linear decoder's and the learned denoiser's on
the same samples."""

import torch

from signae import deep_decoder, job, provenance, runs
from signae.device import resolve_device


def main(sm) -> None:
    dev = resolve_device(sm.params.device)
    meta, arrays = runs.load(sm.input.json)  # checks the weights' SHA-256
    B = torch.as_tensor(arrays["B"], dtype=torch.float32, device=dev)  # (n, d) unit rows
    losses, curve = deep_decoder.train(B, meta["sparsity"], sm.params.settings, seed=meta["seed"])
    deep_decoder.check(losses, sm.input.json)
    record = {"rule": sm.rule, "run": sm.input.json, "run_weights_sha256": meta["weights_sha256"]}
    record |= {key: meta[key] for key in ("sparsity", "d", "n", "r", "seed")}
    record |= {"settings": dict(sm.params.settings), **losses, "curve": curve}
    record |= {"versions": provenance.package_versions(), "device": provenance.device_info(dev)}
    provenance.write_json(sm.output[0], {**record, "finished_utc": provenance.now_utc()})
    print(
        f"deep decoder p={meta['sparsity']:g}, d={meta['d']}, r={meta['r']:g} (same test samples): linear "
        f"{losses['paired_loss_linear']:.5f}, learned denoiser {losses['paired_loss_learned_denoiser']:.5f}, deep "
        f"{losses['loss_deep']:.5f} in {losses['wall_time_s']:.1f} s"
    )


if __name__ == "__main__":
    job.run(main, "deep_decoder", globals())
