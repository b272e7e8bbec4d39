"""Rule gaussian_twin: the Gaussian twin N(0, Sigma_hat) of one real data variant (signae.twin): one CSV row per
projected-GD run on the twin (unwhitened variants: the formula's own check) and per trained encoder (its exact
risk on the twin), and a JSON with the norm concentrations."""

import pandas as pd

from signae import images, job, provenance, twin
from signae.device import resolve_device


def main(sm) -> None:
    dev = resolve_device(sm.params.device)
    prep = images.load_prepared(sm.input.npz, sm.input.json)
    p = sm.params
    rows, kappas = twin.twin_diagnostics(
        prep, sm.wildcards.variant, list(sm.input.runs), p.r, p.twin["steps"], p.twin["lr"], p.seed, dev
    )
    pd.DataFrame(rows).to_csv(sm.output.csv, index=False)
    record = {"dataset": sm.wildcards.dataset, "variant": sm.wildcards.variant, "d": prep.x_train.shape[1], **kappas}
    record |= {"twin": dict(p.twin), "seed": p.seed, "twin_floor": twin.TWIN_FLOOR}
    record |= {"versions": provenance.package_versions(), "device": provenance.device_info(dev)}
    provenance.write_json(sm.output.json, {**record, "finished_utc": provenance.now_utc()})
    print(
        f"norm concentration: images {kappas['kappa_x']:.4f}, Gaussian twin {kappas['kappa_g']:.4f}, "
        f"scale factor {kappas['kappa']:.4f}"
    )


if __name__ == "__main__":
    job.run(main, "gaussian_twin", globals())
