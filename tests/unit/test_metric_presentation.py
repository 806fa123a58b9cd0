"""One definition of each metric's presentation (``tfvae.evaluation.report``), and its five readers agreeing on it:
the ``tfvae eval`` table, ``tfvae weights``, the model cards, the README's "Pretrained models" table and the
explorer page. TensorFlow-free and quick: every shipped set is read from its files, nothing is evaluated."""

import json
import os
import subprocess
import sys

import pytest

from tfvae import zoo
from tfvae.evaluation import report
from tfvae.explorer import page
from tfvae.zoo import cards, rebuild
from tfvae.zoo.recipes import RECIPES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = zoo.names()
# The rule, written out once more on purpose: what each shipped set is judged by.
EXPECTED_HEADLINE = {"better_weight": "nll", "mnist_z2": "nll", "mnist_cvae": "nll", "fashion_mnist": "nll",
                     "freyface_z2": "elbo", "freyface_z20": "elbo", "olivetti_conv": "elbo", "olivetti_ae": "rmse"}

BERNOULLI = {"dataset": "mnist", "split": "test", "n_examples": 300, "binarize": "dynamic", "model": "vae",
             "likelihood": "bernoulli", "iwae_samples": 200, "elbo": -91.23456, "neg_elbo": 91.23456, "nll": 86.5,
             "bits_per_dim": 0.159162, "reconstruction_loss": 70.111, "kl": 21.12356, "rmse": 0.147263,
             "active_units": 17, "latent_dim": 128, "seconds": 12.345}
GAUSSIAN = dict(BERNOULLI, dataset="freyface", binarize="none", likelihood="gaussian", iwae_samples=1000,
                elbo=866.449, neg_elbo=-866.449, nll=-881.712, bits_per_dim=-2.2715, latent_dim=2, active_units=2,
                likelihood_note="Gaussian densities")
AUTOENCODER = dict(BERNOULLI, dataset="olivetti", binarize="none", model="ae", likelihood="mse", iwae_samples=None,
                   elbo=None, neg_elbo=None, nll=None, bits_per_dim=None, kl=None, rmse=0.064334)


def _metrics(name):
    with open(os.path.join(zoo.installed_root(), name, "metrics.json")) as f:
        return json.load(f)


def _readme_cells():
    """name -> the "test metrics" cell of the README's "Pretrained models" table."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    table = text[text.index("| name | what | picture | test metrics |"):].split("\n\n")[0].splitlines()[2:]
    return {row.split(" | ")[0].strip("|` "): row.split(" | ")[3] for row in table}


def _card_rows(name):
    """The rows of the first ``| metric | value |`` table of a set's MODEL_CARD.md: [(label, value)]."""
    lines = open(os.path.join(zoo.installed_root(), name, "MODEL_CARD.md"), encoding="utf-8").read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| metric | value"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(tuple(c.strip() for c in line.strip("|").split("|"))[:2])
    return rows


def test_the_sample_tables_of_tfvae_eval():
    assert report.format_table(BERNOULLI) == "\n".join([
        "mnist / test: 300 images, binarize=dynamic, model=vae, likelihood=bernoulli",
        "  NLL (importance-weighted, K=200)                  86.50 nats",
        "  bits/dim                                         0.1592 ",
        "  -ELBO                                             91.23 nats",
        "    reconstruction                                  70.11 nats",
        "    KL                                              21.12 nats",
        "  RMSE (reconstruction from z_mean)                0.1473 ",
        "  active units (Var > 0.01)                            17 of 128",
        "  time                                               12.3 s",
    ])
    lines = report.format_table(GAUSSIAN).splitlines()
    assert lines[1].split() == ["ELBO", "866.45", "nats"]  # the headline first; the lines of before stay
    labels = [ln.split("  ")[1].strip() for ln in lines[2:5]]
    assert labels == ["NLL (importance-weighted, K=1000)", "bits/dim", "-ELBO"]
    assert lines[-1] == "  note: Gaussian densities"
    lines = report.format_table(AUTOENCODER).splitlines()
    assert lines[1].split() == ["RMSE", "(reconstruction", "from", "z_mean)", "0.0643"]
    assert not [ln for ln in lines if "NLL" in ln or "ELBO" in ln or "KL" in ln]


def test_the_headline_rule_and_the_summary():
    assert [report.headline_key(m) for m in (BERNOULLI, GAUSSIAN, AUTOENCODER)] == ["nll", "elbo", "rmse"]
    assert report.summary_keys(BERNOULLI) == ["nll", "neg_elbo", "rmse"]
    assert report.summary_keys(GAUSSIAN) == ["elbo", "nll", "rmse"]
    assert report.summary_keys(AUTOENCODER) == ["rmse"]
    cvae = dict(BERNOULLI, model="cvae", conditional_accuracy=0.998)
    assert report.headline_keys(cvae) == ["nll", "conditional_accuracy"]
    assert report.summary_text(cvae) == ("NLL 86.50 nats, -ELBO 91.23 nats, RMSE 0.1473, "
                                         "conditional accuracy 99.8%")
    assert report.headline_key(dict(BERNOULLI, likelihood="mse")) == "rmse"  # the mse "likelihood" bounds nothing
    # a published likelihood says K, binarization, split and what it bounds
    assert report.protocol(BERNOULLI) == ("test split, 300 images, K=200, dynamic binarization; "
                                          "bounds: NLL, -ELBO ≥ -log p(x)")
    assert report.protocol(GAUSSIAN) == ("test split, 300 images, K=1000, not binarized; "
                                         "bounds: ELBO ≤ log p(x); NLL ≥ -log p(x)")
    assert report.protocol(AUTOENCODER) == "test split, 300 images, not binarized"


def test_a_card_table_leaves_out_a_densitys_twin_numbers():
    labels = [row.split(" | ")[0].strip("| ") for row in report.markdown_table(GAUSSIAN).splitlines()[2:]
              if row.startswith("| ")]
    assert labels[0] == "ELBO" and "-ELBO" not in labels and "bits/dim" not in labels, labels
    assert report.rows(GAUSSIAN, "card") == ["elbo", "nll", "reconstruction_loss", "kl", "rmse", "active_units",
                                             "seconds"]
    assert report.rows(GAUSSIAN, "page", stochastic=True) == ["elbo", "nll", "rmse", "reconstruction_loss", "kl",
                                                              "active_units"]
    assert report.markdown_table(BERNOULLI).splitlines()[2] == "| NLL (importance-weighted, K=200) | 86.50 nats |"


def test_the_old_table_rows_stay_for_the_tfvae_evaluate_alias():
    from tfvae import evaluate

    assert evaluate.TABLE_ROWS[0] == ("nll", "NLL (importance-weighted, K={iwae_samples})", "nats")
    assert [k for k, _, _ in evaluate.TABLE_ROWS] == ["nll", "bits_per_dim", "neg_elbo", "reconstruction_loss", "kl",
                                                      "rmse", "active_units", "seconds"]


@pytest.mark.parametrize("name", SHIPPED)
def test_the_five_readers_show_one_headline_for_each_shipped_set(name):
    m = _metrics(name)
    entry = zoo.describe(name)
    key = report.headline_key(m, entry["likelihood"])
    metric = report.METRICS[key]
    assert key == EXPECTED_HEADLINE[name]
    summary = report.summary_keys(m, entry["likelihood"])
    # tfvae weights
    assert list(entry["metrics"]) == summary
    listing = zoo.format_listing([entry])
    shown = next(line for line in listing.splitlines() if line.startswith("  metrics  "))
    assert shown == f"  metrics  {report.summary_text(m, summary)}  ({report.protocol(m)})"
    assert shown.startswith(f"  metrics  {metric.name} {metric.text(m[key], m)}")
    # the README's table: what tfvae.zoo.rebuild table prints now
    cell = _readme_cells()[name]
    assert cell == rebuild.table_metric(os.path.join(zoo.installed_root(), name)), "regenerate the README's table"
    assert cell.startswith(f"{metric.name} {metric.text(m[key], m)}")
    # the model card: its table's first row is the headline
    label, value = _card_rows(name)[0]
    assert label.startswith(metric.name) and metric.value(m[key]) in value, (label, value)
    if name in RECIPES:  # a generated card (better_weight's is written by hand): its table is the report's
        card = open(os.path.join(zoo.installed_root(), name, "MODEL_CARD.md"), encoding="utf-8").read()
        assert cards.metrics_table(m) in card, f"regenerate it: python -m tfvae.zoo.rebuild {name} --card_only"
    # the explorer page
    cfg = page.page_config(name)
    assert list(cfg["metrics"])[:len(summary)] == summary and cfg["metrics_shown"][0]["key"] == key
    assert cfg["metrics_shown"][0] == {"key": key, "name": metric.name, "value": metric.value(m[key]),
                                       "unit": metric.unit_text(m)}
    assert cfg["metrics_note"].startswith(report.split_text(m))


def test_the_page_script_takes_names_and_numbers_from_the_page_config():
    script = open(os.path.join(ROOT, "tfvae", "explorer", "static", "explorer.js"), encoding="utf-8").read()
    assert "cfg.metrics_shown" in script and "cfg.metrics_note" in script
    assert "neg_elbo" not in script and "toFixed(Math.abs(v)" not in script  # no names or formats of its own


def test_the_readers_define_no_rows_of_their_own():
    for module in ("zoo/lookup.py", "zoo/cards.py", "zoo/rebuild.py", "explorer/page.py"):
        source = open(os.path.join(ROOT, "tfvae", module), encoding="utf-8").read()
        assert "from tfvae.evaluation import report" in source, module
        for defined in ("importance-weighted", "RMSE (", '"-ELBO"', "HEADLINE", "METRIC_ROWS", "DETAILS ="):
            assert defined not in source, f"{module} defines {defined!r}: it belongs in tfvae/evaluation/report.py"


def test_showing_metrics_imports_no_tensorflow():
    code = ("import sys; import tfvae.cli, tfvae.zoo; from tfvae.explorer import page; tfvae.cli.build_parser(); "
            "tfvae.zoo.format_listing([tfvae.zoo.describe(n) for n in tfvae.zoo.names()]); "
            "page.page_config('olivetti_conv'); assert 'tensorflow' not in sys.modules, 'TensorFlow imported'")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr
