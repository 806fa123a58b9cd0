"""How far a shipped set's headline metric on its first 200 test images moves when K shrinks (tests/e2e/test_zoo.py).

For each set with a likelihood, ``tfvae eval`` of the first ``--n`` test images at the set's own K
(``metrics.json``: 5000 where the data are binary, 1000 otherwise; seed 0) and at each ``--ks`` for each of
``--seeds``. The gap at K is ``headline(K, seed) - headline(full K, seed 0)`` on the same images: for an NLL a bias
(fewer importance samples, a looser bound) plus Monte-Carlo noise, for an ELBO only the noise. Prints one line per
set and K: the gaps' mean, standard deviation, largest magnitude, ``|mean| + 4 sd`` (test_zoo's ``K_GAP``) and the
4-standard-error sampling noise of the 200-image mean the test allows besides (none for Olivetti's 80, the whole
test split), and the seconds of one evaluation.

    python -m tests.e2e.zoo_k_gap [--ks 10,50,100,500] [--seeds 0,1,2,3,4,5,6,7,8,9] [--sets a,b] [--n 200]
"""

import argparse
import contextlib
import io
import json
import math
import os
import statistics
import tempfile
import time

from tests.helpers import FREY, OLIVETTI, TFDS_DIR

DATA_DIRS = {"freyface": FREY, "olivetti": OLIVETTI}


def headline(metrics):
    return "elbo" if metrics["likelihood"] == "gaussian" else "nll"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ks", default="10,50,100,500")
    p.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    p.add_argument("--sets", default="")
    p.add_argument("--n", type=int, default=200)
    args = p.parse_args()
    os.environ.setdefault("TFDS_DATA_DIR", TFDS_DIR)
    from tfvae import zoo
    from tfvae.evaluation import run as evaluation

    out = tempfile.mkdtemp()
    for name in args.sets.split(",") if args.sets else zoo.names():
        with open(os.path.join(zoo.installed_root(), name, "metrics.json")) as f:
            full = json.load(f)
        if full["nll"] is None:  # an auto-encoder: RMSE, which K does not touch
            continue
        key = headline(full)

        def run(k, seed):
            start = time.time()
            with contextlib.redirect_stdout(io.StringIO()):
                m = evaluation.run_eval(name, num_examples=args.n, iwae_samples=k, seed=seed,
                                      data_dir=DATA_DIRS.get(full["dataset"]), output=os.path.join(out, "m.json"))
            return m, time.time() - start

        ref, seconds = run(full["iwae_samples"], 0)
        n = ref["n_examples"]
        sd = ref["per_image_sd"]["neg_elbo" if key == "elbo" else key]
        noise = 4 * sd / math.sqrt(n) * math.sqrt(max(0.0, 1 - n / full["n_examples"]))
        print(f"{name}: {key} {full[key]:.3f} (metrics.json, K={full['iwae_samples']}), first {n} images "
              f"{ref[key]:.3f} at K={full['iwae_samples']} ({seconds:.1f} s); 4 standard errors {noise:.2f}")
        for k in map(int, args.ks.split(",")):
            gaps, times = [], []
            for seed in map(int, args.seeds.split(",")):
                m, seconds = run(k, seed)
                gaps.append(m[key] - ref[key])
                times.append(seconds)
            mean, spread = statistics.mean(gaps), statistics.stdev(gaps) if len(gaps) > 1 else 0.0
            row = {"set": name, "K": k, "mean": mean, "sd": spread, "max_abs": max(map(abs, gaps)),
                   "k_gap": abs(mean) + 4 * spread, "four_se": noise, "seconds": min(times)}
            print("  K=%(K)d: gap mean %(mean)+.3f, sd %(sd).3f, largest %(max_abs).3f; |mean| + 4 sd %(k_gap).3f; "
                  "%(seconds).1f s" % row)
            print("  " + json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
