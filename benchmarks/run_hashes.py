"""Fingerprints of the run tables of every scenario under its policies: refactors must keep
them identical (adoption for adoption), so compare this script's output before and after.

    python benchmarks/run_hashes.py > before.txt      # --n-firms 1500: every synthetic scenario smaller
    ... change the engine ...
    python benchmarks/run_hashes.py > after.txt && diff before.txt after.txt

Each line: scenario, policy, and a SHA-256 prefix of each table's values (adoptions,
timeseries, firm panel), of the summary and of the model's own state at the end (its rates,
running sums and firm columns in full precision), at the scenarios' own sizes and years.

    python benchmarks/run_hashes.py --template > templated.txt && diff before.txt templated.txt

``--template`` builds each scenario's policies on one population template (sim/template.py):
the lines must equal those of fresh builds.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

POLICIES = ("none", "incentive_package", "carbon_price")


def _digest(df) -> str:
    import pandas as pd

    h = hashlib.sha256(pd.util.hash_pandas_object(df.reset_index(drop=True), index=False).values.tobytes())
    h.update(",".join(map(str, df.columns)).encode())
    return h.hexdigest()[:12]


#: the model's own state at the end of the run, in full precision (the tables keep float32 or
#: rounded values, which can hide a refactor's last-bit change of a running sum)
STATE = ("scope1_rate", "scope2_rate", "annual_scope1", "annual_scope2", "annual_energy", "energy_total", "state32",
         "neighbour_adopters", "aware_count", "adopter_count")
FIRM_STATE = ("energy_mwh_per_yr", "capture_share", "aware", "adopted", "adopted_month", "expiry_month", "adoption_seq")


def _state_digest(model) -> str:
    import numpy as np

    h = hashlib.sha256()
    for name in STATE:
        h.update(np.ascontiguousarray(getattr(model, name)).tobytes())
    for name in FIRM_STATE:
        h.update(np.ascontiguousarray(getattr(model.firms, name)).tobytes())
    h.update(repr((model.total_scope1, model.total_scope2)).encode())
    return h.hexdigest()[:12]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None, help="scenario names")
    ap.add_argument("--template", action="store_true", help="build each scenario's policies on one population template")
    ap.add_argument("--n-firms", type=int, default=None,
                    help="firms of every synthetic scenario (default: each scenario's own; cheaper comparisons)")
    args = ap.parse_args()
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    from sim.run import compose, run_model
    from sim.scenarios import available
    from sim.template import PopulationCache
    from hydra.core.global_hydra import GlobalHydra

    for info in available():
        if args.only and info.name not in args.only:
            continue
        populations = PopulationCache() if args.template else None
        for policy in POLICIES:
            ov = [f"scenario={info.name}", f"policy={policy}"] + ([f"n_firms={args.n_firms}"] if args.n_firms else [])
            try:
                cfg = compose(ov)
            finally:
                GlobalHydra.instance().clear()
            last = []
            res = run_model(cfg, populations=populations, progress=lambda year, model: last.append(model))
            s = json.dumps(res.summary, sort_keys=True, default=str)
            print(info.name, policy, "adoptions", len(res.adoptions), _digest(res.adoptions),
                  "ts", _digest(res.timeseries), "firms", _digest(res.firms),
                  "summary", hashlib.sha256(s.encode()).hexdigest()[:12], "state", _state_digest(last[-1]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
