"""Rule deep_decoder: a decoder with one hidden nonlinear layer on the encoder of one sparse run
(signae.deep_decoder) -> JSON with its test loss beside the linear decoder's and the learned denoiser's on
the same samples. Runs on its own too:
python workflow/scripts/deep_decoder.py results/runs/sparse/sample/p0.1_d128_r0.5_seed0 [config.yaml ...]."""

import sys

import torch

from signae import deep_decoder, provenance, runs
from signae.device import resolve_device, set_threads


def main(spec: runs.RunSpec, settings: dict, device: str, threads: int, deterministic: bool) -> None:
    set_threads(threads, deterministic)
    dev = resolve_device(device)
    meta, arrays = runs.load(spec.json)  # checks the weights' SHA-256
    B = torch.as_tensor(arrays["B"], dtype=torch.float32, device=dev)  # (n, d) unit rows
    losses, curve = deep_decoder.fit(B, meta["sparsity"], settings, seed=spec.seed)
    deep_decoder.check(losses, spec.json)
    provenance.write_json(
        runs.deep_decoder_file(spec),
        {
            "rule": "deep_decoder",
            "run": spec.json,
            "run_weights_sha256": meta["weights_sha256"],
            "sparsity": meta["sparsity"],
            "d": meta["d"],
            "n": meta["n"],
            "r": meta["r"],
            "seed": spec.seed,
            "settings": dict(settings),
            **losses,
            "curve": curve,
            "versions": provenance.package_versions(),
            "device": provenance.device_info(dev),
            "finished_utc": provenance.now_utc(),
        },
    )
    print(
        f"deep decoder p={meta['sparsity']:g}, d={meta['d']}, r={meta['r']:g} (same test samples): linear "
        f"{losses['paired_loss_linear']:.5f}, learned denoiser {losses['paired_loss_learned_denoiser']:.5f}, deep "
        f"{losses['loss_deep']:.5f} in {losses['wall_time_s']:.1f} s"
    )


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            p = sm.params
            main(runs.RunSpec.from_stem(sm.input.json), p.settings, p.device, sm.threads, p.deterministic)
    else:
        from signae.config import deep_decoder_settings, load_config

        c = load_config(sys.argv[2:])
        spec = runs.RunSpec.from_stem(sys.argv[1])
        with provenance.standalone([runs.deep_decoder_file(spec)]):
            main(
                spec,
                deep_decoder_settings(c),
                c["device"],
                c["threads"],
                c["deterministic"],
            )
