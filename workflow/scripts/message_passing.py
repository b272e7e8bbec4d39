"""Rule message_passing: one (p, r) of figure 11 -> JSON: the unrolled decoder's test loss at every depth on the
ideal encoder at every d and on the trained encoders of figure 7's largest d, with the state evolution of each
encoder's spectrum and of the ideal one (signae.message_passing); and the learned decoder on the ideal encoder at
one d, on the same test samples (signae.learned_message_passing)."""

from signae import job, learned_message_passing, linalg, message_passing, provenance, runs, theory


def main(sm) -> None:
    p, r = float(sm.wildcards.p), float(sm.wildcards.r)
    s = sm.params.settings
    K, seed, damping, per_unit = s["iterations"], s["seed"], s["damping"], s["test_samples_per_unit"]
    records = []
    for d in s["d"]:  # the ideal encoder: random orthonormal rows (eq. (48))
        n = theory.hidden_units(r, d)
        res = message_passing.evaluate(linalg.ideal_encoder(n, d, seed), p, K, per_unit * n, seed, damping)
        records.append({"encoder": "ideal", "d": d, "n": n, "seed": seed, **res})
    learn = s["learned"]  # the learned decoder (eq. (57)): trained on its own samples, tested on the ideal one's
    n, d = theory.hidden_units(r, learn["d"]), learn["d"]
    B = linalg.ideal_encoder(n, d, seed)
    fit = learned_message_passing.fit(
        B, p, K, damping, learn["train_samples_per_unit"] * n, learn["steps"], learn["batch"], learn["lr"], seed + 2
    )
    res = message_passing.evaluate(B, p, K, per_unit * n, seed, damping, precisions=fit["precisions"])
    learned = {"encoder": "ideal", "d": d, "n": n, "seed": seed, "depth": K, "loss": res["loss"][-1],
               "loss_se": res["loss_se"][-1], "state_evolution": res["state_evolution"][-1],
               "train_loss": fit["train_loss"], "train_loss_initial": fit["train_loss_initial"],
               "precisions": fit["precisions"].tolist(), "initial_precisions": fit["initial"].tolist()}  # fmt: skip
    # only the last depth is the learned decoder's output: it was trained for it, the earlier ones are not estimates
    message_passing.check({K: learned["loss"]}, f"the learned decoder at p={p:g}, r={r:g}, d={d}",
                          "Lower sparse.message_passing.learned.lr or steps")  # fmt: skip
    print(f"p={p:g} r={r:g} learned d={d}: loss after {K} steps {learned['loss']:.5f}, sample risk "
          f"{fit['train_loss_initial']:.5f} -> {fit['train_loss']:.5f}")  # fmt: skip
    for path in sm.input.runs:  # the encoders training found (figure 7)
        meta, arrays = runs.load(path)
        n, d = arrays["B"].shape
        res = message_passing.evaluate(arrays["B"], p, K, per_unit * n, seed + 1, damping)
        records.append({"encoder": "trained", "d": d, "n": n, "seed": meta["seed"], "run": path, **res})
    for rec in records:
        message_passing.check(
            dict(enumerate(rec["loss"])),
            f"the unrolled decoder on the {rec['encoder']} encoder at p={p:g}, r={r:g}, d={rec['d']}",
        )
        print(f"p={p:g} r={r:g} {rec['encoder']} d={rec['d']}: loss by depth {[round(x, 5) for x in rec['loss']]}, "
              f"state evolution {[round(x, 5) for x in rec['state_evolution']]}")  # fmt: skip
    record = {
        "rule": sm.rule, "sparsity": p, "r": r, "iterations": K, "settings": s,
        "state_evolution": message_passing.state_evolution(p, r, K).tolist(), "encoders": records, "learned": learned,
        "versions": provenance.package_versions(), "device": provenance.device_info("cpu"),
    }  # fmt: skip
    provenance.write_json(sm.output.json, {**record, "finished_utc": provenance.now_utc()})


if __name__ == "__main__":
    job.run(main, "message_passing", globals())
