"""``tfvae eval``: a model evaluated over a split, the table printed, ``metrics.json`` written."""

import contextlib
import dataclasses
import os

import numpy as np

from tfvae.errors import TfvaeError
from tfvae.evaluation.estimator import evaluate
from tfvae.evaluation.report import format_table, likelihood_note


def _check_fits(model, images, labels, dataset):
    want = tuple(model.config.input_shape)
    if images.shape[1:] != want:
        raise TfvaeError(f"model expects images of shape {want}, dataset {dataset} has {images.shape[1:]}; "
                         "evaluate on the data it was trained on")
    if model.config.conditional and labels.max() >= model.num_classes:
        raise TfvaeError(f"labels of {dataset} go up to {labels.max()}, the cvae knows {model.num_classes} classes")


def run_eval(load_weight_dir="better_weight", *, dataset=None, data_dir=None, split="test", num_examples=None,
             iwae_samples=5000, batch=None, seed=0, output=None, save_images=False, strategy="default",
             sample_quality=None, sampler=None):
    """``tfvae eval``: evaluates a model over a split, prints the table, writes JSON (and reconstructions.png).

    Args:
        load_weight_dir: a checkpoint or run directory, or a shipped weights name.
        dataset, data_dir: evaluate on other data than the model's config names.
        split: ``test`` or ``train``.
        num_examples: the first N images (default all).
        iwae_samples: importance samples K per image.
        batch: images per step (default ``default_batch``: ~20000 / K for MNIST-sized images).
        seed: seed of the importance samples.
        output: metrics JSON (default ``<run or weights dir>/metrics.json``;
            ``./eval-NAME/metrics.json`` for installed weights).
        save_images: also write ``reconstructions.png`` beside the JSON.
        strategy: ``default``, ``mirrored`` or ``multiworker``: replicas share each batch.
        sample_quality: N: also the Fréchet distance of N samples to N test images in the dataset's shipped
            classifier's features (``tfvae.evaluation.sample_quality``; none for a dataset without one).
        sampler: ``--sampler`` of those samples (None: the fitted post-hoc sampler if there is one, else the prior).

    Returns:
        the metrics dict written.
    """
    from tfvae import checkpoints, data, io
    from tfvae.pictures import grids
    from tfvae.engine import distribute

    # First: multi-worker collectives must be configured before TensorFlow runs anything.
    replicas = distribute.make_strategy(strategy)
    chief = distribute.is_chief(replicas)
    with replicas.scope() if replicas is not None else contextlib.nullcontext():
        model, config, ckpt, home = checkpoints.load_model(load_weight_dir)
    dc = data.DataConfig.from_dict(config["data"])
    dc = dataclasses.replace(dc, train_examples=0, val_examples=0, validation_holdout=0,
                             dataset=dataset or dc.dataset, data_dir=data_dir or dc.data_dir)
    output = output or os.path.join(checkpoints.writable_home(home, "eval") or home, "metrics.json")
    print(f"tfvae: evaluating {ckpt} on {dc.dataset}/{split}; writing {output}", flush=True)
    images, labels = data.load_eval_images(dc, split, num_examples)
    _check_fits(model, images, labels, dc.dataset)
    if replicas is not None:
        print(f"tfvae: strategy {strategy}: {replicas.num_replicas_in_sync} replicas share each batch"
              + ("" if chief else "; this worker is not the chief and writes nothing"), flush=True)
    m = evaluate(model, images, iwae_samples=iwae_samples, batch=batch, seed=seed, labels=labels, strategy=replicas)
    result = {
        "dataset": dc.dataset, "split": split, "n_examples": m["n_examples"], "binarize": dc.binarize,
        "model": model.config.model, "likelihood": model.config.likelihood, "prior": model.config.prior,
        "posterior": model.config.posterior, "iwae_samples": m["iwae_samples"],
        **{k: m[k] for k in ("elbo", "neg_elbo", "nll", "bits_per_dim", "reconstruction_loss", "kl", "kl_estimator",
                             "rmse", "per_image_sd", "active_units", "latent_dim", "seconds")},
        "rmse_note": "RMSE of the decoder mean given z_mean against the (binarized) input, per image, averaged",
        "weights": os.path.abspath(ckpt),
        "seed": seed,
    }
    if sample_quality:
        from tfvae import samplers
        from tfvae.evaluation.sample_quality import sample_quality as measure

        grey = data.load_test_split(dataclasses.replace(dc, binarize="none"), "test").images.astype(np.float32) / 255
        record = measure(model, dc.dataset, grey, n=sample_quality, seed=seed, sampler=samplers.load(ckpt, sampler))
        if record is None:
            print(f"tfvae: no sample quality for {dc.dataset}: tfvae ships a feature classifier for mnist and "
                  "fashion_mnist only", flush=True)
        else:
            result.update(sample_quality=record, sample_fd=record["fd"], sample_fd_n=record["n"],
                          sample_fd_sampler=record["sampler"])
    note = likelihood_note(model, bool(np.isin(images, (0.0, 1.0)).all()))
    if note:
        result["likelihood_note"] = note
    print(format_table(result), flush=True)
    if not chief:
        return result
    io.write_json(output, result)
    print(f"tfvae: wrote {output}")
    if save_images:
        n = min(50, len(images))
        recon = model((images[:n], labels[:n]) if model.config.conditional else images[:n]).numpy()
        path = os.path.join(os.path.dirname(os.path.abspath(output)), "reconstructions.png")
        grids.save_png(path, grids.pairs_grid(images[:n], recon, ncol=10), scale=2)
        print(f"tfvae: wrote {path}")
    return result
