"""How evaluation numbers are shown, everywhere: the one definition of each metric (its key in metrics.json,
name, protocol, unit, number format, what it bounds) and of which metrics a model is judged by. TensorFlow-free.

Its five readers show the same numbers the same way:

* the terminal table of ``tfvae eval`` (``format_table``) and a MODEL_CARD.md (``markdown_table``): every row
  of ``rows(m, "terminal")`` / ``rows(m, "card")``, the headline first;
* ``tfvae weights`` (``tfvae.zoo.lookup``), the README's "Pretrained models" table (``tfvae.zoo.rebuild table``)
  and the head of the explorer page's metrics (``tfvae.explorer.page``): ``summary_keys(m)``, as
  ``summary_text(m)``, with ``protocol(m)`` (split, images, K, binarization, what the bounds bound).

The headline rule: a model with a likelihood bound is judged by its Bernoulli decoder's importance-weighted NLL
(nats, an upper bound on -log p(x)) or its Gaussian decoder's ELBO (nats of a density, a lower bound on
log p(x)); a model without one (an auto-encoder, or the mse "likelihood", which is no normalised density) by its
RMSE. A cvae adds its conditional accuracy. The summary is the headline, the other bound (-ELBO beside an NLL,
the NLL beside an ELBO), the RMSE and a cvae's conditional accuracy: an Olivetti conv VAE (Gaussian) shows ELBO,
NLL and RMSE, the Olivetti auto-encoder RMSE alone.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """How one number of metrics.json is shown."""

    key: str  # its key in metrics.json
    name: str  # in lists: "NLL"
    protocol: str = ""  # how it was measured, in tables: "NLL (importance-weighted, K=5000)"
    unit: str = "nats"  # may name other keys: "of {latent_dim}"
    fmt: str = "{:.2f}"
    bound: str = ""  # what it bounds (in expectation), where it is a bound
    term: bool = False  # a term of the ELBO: indented in the terminal
    places: tuple = ("terminal", "card")  # which full tables list it besides its headline place

    def label(self, m):
        """The table label, with its protocol filled in from the metrics dict ``m``."""
        return f"{self.name} ({self.protocol.format(**m)})" if self.protocol else self.name

    def value(self, v):
        return self.fmt.format(v)

    def unit_text(self, m):
        return self.unit.format(**{"latent_dim": "?", **m})

    def text(self, v, m=None):
        """Value and unit: ``84.15 nats``, ``0.1473``, ``17 of 128``."""
        unit = self.unit_text(m or {})
        return f"{self.value(v)} {unit}" if unit else self.value(v)


# In the order of the full tables (after the headline, which leads them).
METRICS = {m.key: m for m in (
    Metric("nll", "NLL", "importance-weighted, K={iwae_samples}", bound="≥ -log p(x)"),
    Metric("bits_per_dim", "bits/dim", unit="", fmt="{:.4f}"),
    Metric("elbo", "ELBO", bound="≤ log p(x)", places=()),  # only where it is the headline: else -ELBO
    Metric("neg_elbo", "-ELBO", bound="≥ -log p(x)"),
    Metric("reconstruction_loss", "reconstruction", term=True, places=("terminal", "card", "page")),
    Metric("kl", "KL", term=True, places=("terminal", "card", "page")),
    Metric("rmse", "RMSE", "reconstruction from z_mean", unit="", fmt="{:.4f}"),
    Metric("conditional_accuracy", "conditional accuracy", "of prior samples, by a digit classifier", unit="",
           fmt="{:.1%}", places=("card",)),  # measured by tfvae.zoo.rebuild, not tfvae eval
    Metric("active_units", "active units", "Var > 0.01", unit="of {latent_dim}", fmt="{}",
           places=("terminal", "card", "page")),
    Metric("sample_fd", "sample FD", "{sample_fd_n} samples of the {sample_fd_sampler} vs test images, classifier "
           "features", unit="", fmt="{:.2f}", places=("terminal", "card", "page")),  # lower is better
    Metric("kl_estimator", "KL estimator", unit="", fmt="{}", places=("terminal",)),
    Metric("seconds", "time", unit="s", fmt="{:.1f}"),
)}
HEADLINE = {"bernoulli": "nll", "gaussian": "elbo"}  # by decoder likelihood; a model without a bound: rmse
OTHER_BOUND = {"nll": "neg_elbo", "elbo": "nll"}  # shown beside the headline
ALWAYS_SHOWN = ("rmse", "conditional_accuracy", "sample_fd")
# Left out of published tables (card, page, README) where the headline is a density's ELBO: the same number
# with its sign flipped, and a "code length" that is none for a density (the eval's own table keeps them).
NOT_FOR_A_DENSITY = ("neg_elbo", "bits_per_dim")
POSTERIOR_ONLY = ("kl", "active_units")
TEXT_METRICS = ("kl_estimator",)  # shown as words (analytic, monte_carlo)  # the page leaves them out for a model without a posterior
PLACES = ("terminal", "card", "page")
# The terminal's rows as the release before listed them, (key, label template, unit template): for the
# ``tfvae.evaluate`` alias only.
TABLE_ROWS = [(k, ("  " if METRICS[k].term else "") + (f"{METRICS[k].name} ({METRICS[k].protocol})"
                                                        if METRICS[k].protocol else METRICS[k].name), METRICS[k].unit)
              for k in ("nll", "bits_per_dim", "neg_elbo", "reconstruction_loss", "kl", "rmse", "active_units",
                        "seconds")]


def _present(m, keys):
    out = []
    for k in keys:
        v = m.get(k)
        if k not in out and (isinstance(v, (int, float)) and not isinstance(v, bool) or
                             (k in TEXT_METRICS and isinstance(v, str))):
            out.append(k)
    return out


def headline_key(m, likelihood=None):
    """The number a model is judged by: ``nll``, ``elbo`` or ``rmse`` (see the module's docstring)."""
    if m.get("nll") is None:  # no likelihood bound: an auto-encoder
        return "rmse"
    return HEADLINE.get(likelihood or m.get("likelihood") or "bernoulli", "rmse")


def headline_keys(m, likelihood=None):
    """The headline, and a cvae's conditional accuracy where it was measured."""
    return _present(m, (headline_key(m, likelihood), "conditional_accuracy"))


def summary_keys(m, likelihood=None):
    """What ``tfvae weights``, the README's table and the page's header show first, in order."""
    key = headline_key(m, likelihood)
    return _present(m, (key, OTHER_BOUND.get(key, key)) + ALWAYS_SHOWN)


def rows(m, place, likelihood=None, stochastic=None):
    """The keys a full table lists, in order: ``place`` is ``terminal`` (``tfvae eval``, every number it
    measured), ``card`` (MODEL_CARD.md) or ``page`` (the explorer: the summary, then the ELBO's terms and active
    units; ``stochastic=False`` leaves out what needs a posterior)."""
    assert place in PLACES, place
    key = headline_key(m, likelihood)
    lead = summary_keys(m, likelihood) if place == "page" else [key]
    keys = _present(m, lead + [k for k, metric in METRICS.items() if place in metric.places])
    if place != "terminal" and key == "elbo":
        keys = [k for k in keys if k not in NOT_FOR_A_DENSITY]
    if stochastic is False:
        keys = [k for k in keys if k not in POSTERIOR_ONLY]
    return keys


def shown(m, keys):
    """``[{"key", "name", "value", "unit"}]`` of ``keys``: what the explorer page draws (name, bold value, unit)."""
    return [{"key": k, "name": METRICS[k].name, "value": METRICS[k].value(m[k]), "unit": METRICS[k].unit_text(m)}
            for k in keys]


def summary_text(m, keys=None):
    """``NLL 84.15 nats, -ELBO 89.72 nats, RMSE 0.1473``: the summary (or ``keys``) in a line."""
    keys = summary_keys(m) if keys is None else keys
    return ", ".join(f"{METRICS[k].name} {METRICS[k].text(m[k], m)}" for k in keys)


def split_text(m):
    """``test split, 10000 images, K=5000, dynamic binarization``, from what metrics.json recorded."""
    parts = [f"{m.get('split', '?')} split, {m.get('n_examples', '?')} images"]
    if m.get("iwae_samples"):
        parts.append(f"K={m['iwae_samples']}")
    if "binarize" in m:
        parts.append("not binarized" if m["binarize"] in (None, "none") else f"{m['binarize']} binarization")
    return ", ".join(parts)


def bounds_text(keys):
    """``NLL, -ELBO ≥ -log p(x)``: what the bounds among ``keys`` bound ("" where there are none)."""
    by_bound = {}
    for k in keys:
        if METRICS[k].bound:
            by_bound.setdefault(METRICS[k].bound, []).append(METRICS[k].name)
    return "; ".join(f"{', '.join(names)} {bound}" for bound, names in by_bound.items())


def protocol(m, keys=None):
    """How the numbers ``keys`` (default: the summary) were measured: split, images, K, binarization, bounds."""
    bounds = bounds_text(summary_keys(m) if keys is None else keys)
    return split_text(m) + (f"; bounds: {bounds}" if bounds else "")


def format_table(m):
    """The terminal table of ``tfvae eval``: a header line, then every number measured, the headline first."""
    lines = [f"{m['dataset']} / {m['split']}: {m['n_examples']} images, binarize={m['binarize']}, "
             f"model={m.get('model', 'vae')}, likelihood={m.get('likelihood', 'bernoulli')}"]
    for key in rows(m, "terminal"):
        metric = METRICS[key]
        label = ("  " if metric.term else "") + metric.label(m)
        lines.append(f"  {label:<44} {metric.value(m[key]):>10} {metric.unit_text(m)}")
    if m.get("likelihood_note"):
        lines.append(f"  note: {m['likelihood_note']}")
    return "\n".join(lines)


def markdown_table(m):
    """A MODEL_CARD.md's metric table (the headline first), then how the numbers were measured."""
    keys = rows(m, "card")
    lines = ["| metric | value |", "|---|---|"]
    lines += [f"| {METRICS[k].label(m)} | {METRICS[k].text(m[k], m)} |" for k in keys]
    return "\n".join(lines + ["", f"Measured on the {protocol(m, keys)}."])


def likelihood_note(model, binary):
    """What the likelihood numbers mean for this model and data (None: true likelihoods of binary data)."""
    if not model.has_likelihood_bound:
        return "an auto-encoder defines no likelihood: only reconstruction loss and RMSE"
    return model.likelihood.note or (None if binary else
                                     "the data are not binary: the Bernoulli 'NLL' and ELBO are cross-entropies, "
                                     "not likelihoods")
