"""``--objective piwae``: the encoder trained on MIWAE(M, k), the decoder on IWAE(M k) (Rainforth et al., 2018).

The same M x k draws give both bounds. Through the engine's gradient hooks: ``step_losses`` returns both
scalars, ``apply_gradients`` takes the gradient of the MIWAE one for the inference networks (the kind's
``inference_variables``) and of the IWAE one for everything else (decoder, a learned prior), then one optimizer
step on all of them. ``loss`` (the logs) is the IWAE(M k) bound.
"""

from tfvae.models.objectives.base import GROUPS, Objective, check_groups, register, reported
from tfvae.models.objectives.miwae import miwae_bound


def _mean(values, rows):
    from tfvae._tf import tf

    if rows is not None:  # under a strategy: the sum over replicas is the global mean
        return tf.nn.compute_average_loss(values, global_batch_size=rows[1])
    return tf.reduce_mean(values)


@register
class PIWAE(Objective):
    """Encoder on MIWAE(--iw_groups, --k), decoder on IWAE(--iw_groups x --k), of the same draws."""

    name = "piwae"
    help = ("the encoder on MIWAE(--iw_groups, --k), the decoder on IWAE of all M x k draws "
            "(Rainforth et al. 2018)")
    fields = (GROUPS,)
    persistent_tape = True

    def check(self, cfg):
        check_groups(self.name, cfg)

    def samples(self, cfg):
        return cfg.iw_groups * cfg.k

    def __call__(self, terms, beta, cfg):
        from tfvae.models import densities

        return {"loss": -densities.iwae_bound(terms["log_w"]),
                "encoder_loss": -miwae_bound(terms["log_w"], cfg.iw_groups), **reported(terms)}

    def step_losses(self, model, terms, rows):
        return {"loss": _mean(terms["loss"], rows), "encoder_loss": _mean(terms["encoder_loss"], rows)}

    def apply_gradients(self, model, tape, losses):
        inference = model.kind.inference_variables(model)
        mine = {id(v) for v in inference}
        rest = [v for v in model.trainable_variables if id(v) not in mine]
        grads = tape.gradient(losses["encoder_loss"], inference) + tape.gradient(losses["loss"], rest)
        model.optimizer.apply_gradients(zip(grads, inference + rest))
