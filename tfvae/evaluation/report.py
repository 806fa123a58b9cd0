"""How evaluation numbers are shown: the terminal table of ``tfvae eval`` and what the numbers mean."""

TABLE_ROWS = [
    ("nll", "NLL (importance-weighted, K={iwae_samples})", "nats"),
    ("bits_per_dim", "bits/dim", ""),
    ("neg_elbo", "-ELBO", "nats"),
    ("reconstruction_loss", "  reconstruction", "nats"),
    ("kl", "  KL", "nats"),
    ("rmse", "RMSE (reconstruction from z_mean)", ""),
    ("active_units", "active units (Var > 0.01)", "of {latent_dim}"),
    ("seconds", "time", "s"),
]


def format_table(m):
    """A readable table of a metrics dict."""
    lines = [f"{m['dataset']} / {m['split']}: {m['n_examples']} images, binarize={m['binarize']}, "
             f"model={m.get('model', 'vae')}, likelihood={m.get('likelihood', 'bernoulli')}"]
    for key, label, unit in TABLE_ROWS:
        v = m[key]
        if v is None:
            continue
        val = f"{v:.4f}" if isinstance(v, float) and key in ("bits_per_dim", "rmse") else (
            f"{v:.2f}" if isinstance(v, float) else str(v))
        lines.append(f"  {label.format(**m):<44} {val:>10} {unit.format(**m)}")
    if m.get("likelihood_note"):
        lines.append(f"  note: {m['likelihood_note']}")
    return "\n".join(lines)


def likelihood_note(model, binary):
    """What the likelihood numbers mean for this model and data (None: true likelihoods of binary data)."""
    if not model.has_likelihood_bound:
        return "an auto-encoder defines no likelihood: only reconstruction loss and RMSE"
    return model.likelihood.note or (None if binary else
                                     "the data are not binary: the Bernoulli 'NLL' and ELBO are cross-entropies, "
                                     "not likelihoods")
