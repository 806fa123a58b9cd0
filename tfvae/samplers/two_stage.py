"""``--sampler two_stage``: a second, small VAE fitted to the training codes (Dai & Wipf 2019, "Diagnosing and
enhancing VAE models").

The codes are standardised per dimension; the second stage is a dense VAE on them (``--hidden2_stage`` widths,
ReLU, a latent as wide as the code) with a Gaussian decoder of one learned variance, gamma, as in the paper, and
trains with the ELBO through the same engine as every tfvae model (``tfvae.engine.steps.Trainer``). A draw
decodes ``eps`` (the second stage's prior draw) to the mean of p(z | u) and undoes the standardisation;
``u`` is not used (one component).
"""

import os

import numpy as np

from tfvae import io
from tfvae.errors import TfvaeError
from tfvae.samplers.base import Field, Fitted, Sampler, register

FILE, META_FILE = "two_stage.weights.h5", "two_stage.json"
EPOCHS = Field("stage_epochs", 50, "epochs of a two_stage sampler's training (default 50)")
WIDTHS = Field("stage_hidden", (512, 512), "dense widths of a two_stage sampler (default 512,512)", type="widths")


def build(dim, hidden):
    """The second-stage Keras model (its class is defined on first use: this module imports no TensorFlow)."""
    import keras

    from tfvae._tf import tf
    from tfvae.engine.steps import Trainer
    from tfvae.models import densities

    class SecondStage(Trainer, keras.Model):
        def __init__(self):
            super().__init__(name="second_stage")
            dense = [keras.layers.Dense(w, activation="relu") for w in hidden]
            self.encoder = keras.Sequential([keras.layers.Input((dim,))] + dense + [keras.layers.Dense(2 * dim)])
            self.decoder = keras.Sequential([keras.layers.Input((dim,))] + [keras.layers.Dense(w, activation="relu")
                                                                             for w in hidden]
                                            + [keras.layers.Dense(dim)])
            self.log_gamma = self.add_weight(shape=(), initializer="zeros", name="log_gamma")
            self.init_engine()

        noise_shape = property(lambda self: (1, dim))

        def compute_losses(self, x, labels=None, training=False, rows=None, eps=None):
            eps = self.draw_noise(tf.shape(x)[0], rows) if eps is None else eps
            mean, log_var = tf.split(self.encoder(x, training=training), 2, axis=-1)
            u = densities.reparameterize(mean, log_var, eps)[:, 0]
            out = self.decoder(u, training=training)
            rec = densities.gaussian_nll(x, out, tf.fill(tf.shape(out), self.log_gamma))
            kl = densities.kl_standard_normal(mean, log_var)
            return {"loss": rec + kl, "reconstruction_loss": rec, "kl_loss": kl, "rmse": densities.rmse(out, x)}

        def call(self, x, training=False):
            return self.decoder(self.encoder(x)[:, :dim])

    model = SecondStage()
    model(np.zeros((1, dim), np.float32))
    return model


class FittedStage(Fitted):
    def __init__(self, model, shift, scale):
        self.model, self.shift, self.scale = model, shift, scale

    def sample(self, eps, u):
        out = self.model.decoder(np.asarray(eps, np.float32)).numpy()
        return (out * self.scale + self.shift).astype(np.float32)


@register
class TwoStageSampler(Sampler):
    name = "two_stage"
    help = "a second small VAE fitted to the training codes (Dai & Wipf 2019)"
    fields = (EPOCHS, WIDTHS)

    def fit(self, z, directory, options, seed=0, verbose=True):
        import keras

        epochs = int(options.get("stage_epochs", EPOCHS.default))
        hidden = tuple(int(w) for w in options.get("stage_hidden", WIDTHS.default))
        if epochs < 1 or not hidden or min(hidden) < 1:
            raise TfvaeError(f"--stage_epochs must be >= 1 and --stage_hidden positive widths, got {epochs} "
                             f"and {hidden}")
        shift, scale = z.mean(0), z.std(0) + 1e-6
        x = ((z - shift) / scale).astype(np.float32)
        keras.utils.set_random_seed(int(seed))
        model = build(z.shape[1], hidden)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        logs = model.fit(x, batch_size=100, epochs=epochs, shuffle=True, verbose=2 if verbose else 0).history
        model.save_weights(os.path.join(directory, FILE))
        io.write_json(os.path.join(directory, META_FILE), {"dim": int(z.shape[1]), "hidden": list(hidden),
                                                          "shift": shift.tolist(), "scale": scale.tolist()})
        return {"stage_epochs": epochs, "stage_hidden": list(hidden), "final_loss": float(logs["loss"][-1]),
                "gamma": float(np.exp(0.5 * model.log_gamma.numpy()))}

    def load(self, directory, meta):
        spec = io.read_json(os.path.join(directory, META_FILE), expect=dict,
                            fix="fit it again with tfvae fit-sampler --sampler two_stage")
        model = build(int(spec["dim"]), tuple(spec["hidden"]))
        try:
            model.load_weights(os.path.join(directory, FILE))
        except (OSError, ValueError) as e:
            raise TfvaeError(f"{os.path.join(directory, FILE)} is unreadable ({type(e).__name__}); fit it again with "
                             "tfvae fit-sampler") from None
        return FittedStage(model, np.asarray(spec["shift"], np.float32), np.asarray(spec["scale"], np.float32))
