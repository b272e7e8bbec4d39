"""Rule train_phase: one point (p, d, r) of figure 10 on the Bernoulli-Rademacher source -> every run and both
candidates (.json rows) and the trained encoders (.npz) (signae.sparse_source.phase_point)."""

import numpy as np

from signae import job, provenance, sparse, sparse_source
from signae.device import resolve_device


def main(sm) -> None:
    w = sm.wildcards
    p, d, r = float(w.p), int(w.d), float(w.r)
    rows, encoders = sparse_source.phase_point(p, d, r, sm.params.settings, sm.params.device)
    np.savez(sm.output.npz, **encoders)
    n = rows[0]["n"]
    record = {
        "rule": sm.rule, "sparsity": p, "d": d, "n": n, "r": n / d, "law": "rademacher",
        "sign_convention": "sign(0) = +1", "settings": sm.params.settings,
        "axis_aligned_risk": sparse.axis_aligned_risk(p, n, d, "rademacher"),
        "critical_sparsity": sparse.critical_sparsity(n / d, "rademacher", n), "rows": rows,
        "encoders_sha256": provenance.sha256_file(sm.output.npz),
        "versions": provenance.package_versions(), "device": provenance.device_info(resolve_device(sm.params.device)),
    }  # fmt: skip
    provenance.write_json(sm.output.json, {**record, "finished_utc": provenance.now_utc()})
    for row in rows:
        print(
            f"p={p:g} d={d} {row['kind']} {row['init']} seed {row['seed']}: loss {row['loss']:.5f} "
            f"(se {row['loss_se']:.5f}), concentration {row['concentration']:.3f}"
        )


if __name__ == "__main__":
    job.run(main, "train_phase", globals())
