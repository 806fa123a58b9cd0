"""How the model reads its axes besides its kind: the prior, the posterior's flow, the KL's estimator, and the
training hooks a kind or an objective sets. Mixed into ``tfvae.models.model.VAE`` (before the engine's
``Trainer``, whose hooks are the defaults)."""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices


class Composition:
    """The model's ``prior``, ``posterior``, ``kind`` and ``objective`` (set by ``VAE.__init__``), read as one."""

    @property
    def closed_form_kl(self):
        """KL(q(z|x) || p(z)) of the top latent has a closed form: a N(0, I) prior and a Gaussian posterior."""
        return self.prior.analytic_kl and not self.posterior.flow

    @property
    def kl_estimator(self):
        """How the KL term is computed: ``analytic`` (closed form), ``monte_carlo`` (from the posterior's
        draws: a learned prior, a vae2's lower layer), or None without a posterior."""
        if not self.kind.stochastic:
            return None
        return "analytic" if self.kind.analytic_kl and self.closed_form_kl else "monte_carlo"

    def prior_sample(self, eps, u):
        """Prior draws ``z`` ``[n, latent_dim]`` from standard-normal ``eps`` and uniform ``u`` ``[n]`` (the
        component), ``Prior.sample``: the one path every sampler, export and the explorer take."""
        return self.prior.sample(self, tf.cast(eps, tf.float32), tf.cast(u, tf.float32))

    def posterior_transform(self, z0, context):
        """The posterior's flow of base draws ``z0`` ``[n, d]`` (context ``[n, 2 d]``, the Gaussian's
        ``[mean, log_var]``): ``(z, log_det [n])``; the identity for a Gaussian posterior."""
        return self.posterior.transform(self, z0, context)

    def prior_log_prob(self, z):
        """``log p(z)`` ``[n]`` of top latents ``z`` ``[n, latent_dim]``."""
        return self.prior.log_prob(self, tf.cast(z, tf.float32))

    # ------------------------------------------------------------ hooks
    def _hook(self, name):
        """The kind's training hook ``name``, else the objective's, else None (the engine's default)."""
        for owner in (self.kind, self.objective):
            if getattr(owner, name) is not None:
                return getattr(owner, name)
        return None

    @property
    def persistent_tape(self):
        return self.kind.persistent_tape or self.objective.persistent_tape

    def step_losses(self, terms, rows=None):
        """The engine's hook, or the kind's or the objective's own (``Kind.step_losses``)."""
        hook = self._hook("step_losses")
        return super().step_losses(terms, rows) if hook is None else hook(self, terms, rows)

    def apply_step_gradients(self, tape, losses):
        """The engine's gradient-application hook, or the kind's or the objective's own (``Kind.apply_gradients``)."""
        hook = self._hook("apply_gradients")
        return super().apply_step_gradients(tape, losses) if hook is None else hook(self, tape, losses)
