"""The kinds: one harness over every registered kind and architecture, and a kind added from outside the package.

``tfvae.testing.small_configs()`` derives the configs from the registry, so a new kind's file is covered
here without editing this file. The training-step checks (XLA step == graph step, a stack of batches == that
many steps) are in tests/test_models.py; the golden outputs of checkpoints saved before the redesigns in
test_golden.py.
"""

import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tfvae import testing
from tfvae.models import kinds

from tests.helpers import MNIST_IDX

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = testing.small_configs()


def test_every_kind_is_in_the_harness_and_declares_itself():
    covered = {cfg.model for cfg in CONFIGS.values()}
    assert covered == set(kinds.names()) == {"vae", "ae", "cvae", "vae2"}
    for name in kinds.names():
        kind = kinds.get(name)
        assert kind.name == name and kind.help and isinstance(kind.fields, tuple)
        assert (not kind.stochastic) <= (not kind.can_sample)  # no posterior, no prior
    assert [f.name for f in kinds.get("vae2").fields] == ["latent_dim1", "hidden2"]


@pytest.mark.parametrize("name", CONFIGS, ids=CONFIGS.keys())
def test_kind_harness(name, tmp_path):
    testing.run_kind_checks(CONFIGS[name], tmp_path)


# ------------------------------------------------------------------ the axes, pairwise
AXIS_CONFIGS = testing.axis_configs()


@pytest.fixture(scope="module")
def mnist_batch():
    """The first 24 real MNIST training digits, binarized at 0.5, and their labels."""
    from tfvae.data import idx

    train = idx.load_idx_dir(MNIST_IDX)["train"]
    return (train.images[:24] > 127).astype(np.float32), train.labels[:24]


def test_the_axis_rows_cover_every_pair_of_values():
    from tfvae.models import objectives, posteriors, priors

    rows = [(c.model, c.prior, c.posterior, c.objective, c.arch) for c in AXIS_CONFIGS.values()]
    values = [testing.AXIS_KINDS, priors.names(), posteriors.names(), objectives.names(), testing.DENSE_ARCHS]
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            assert {(r[i], r[j]) for r in rows} == {(a, b) for a in values[i] for b in values[j]}
    assert len(rows) <= 20, len(rows)


@pytest.mark.parametrize("name", AXIS_CONFIGS, ids=AXIS_CONFIGS.keys())
def test_axis_harness(name, mnist_batch, tmp_path):
    """A few training steps, an evaluation and an export of each pairwise row, on real digits."""
    cfg = AXIS_CONFIGS[name]
    images, labels = mnist_batch
    model = testing.run_training_test(cfg, images, labels if cfg.conditional else None)
    testing.run_evaluation_test(model, images[:8], labels[:8] if cfg.conditional else None)
    testing.run_model_saving_test(cfg, tmp_path, model)
    testing.run_export_test(cfg, model)


def test_the_flags_and_the_readme_table_come_from_the_registry():
    from tfvae import cli

    train = next(a for a in cli.build_parser()._actions if a.dest == "command").choices["train"]
    options = {o for a in train._actions for o in a.option_strings}
    model = next(a for a in train._actions if a.dest == "model")
    assert tuple(model.choices) == kinds.names()
    for name in kinds.names():
        assert kinds.get(name).help in model.help
        assert {f"--{f.name}" for f in kinds.get(name).fields} <= options
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    rows = dict(re.findall(r"^\| `([a-z0-9_]+)` \| (.+) \|$", readme.split("### Model kinds", 1)[1].split("\n\n")[1],
                           re.M))
    assert rows == {n: kinds.get(n).describe() for n in kinds.names()}, "README's kind table differs from the " \
        "registry: regenerate it with python -c 'from tfvae.models import kinds; print(kinds.markdown_table())'"


def test_every_axis_flag_and_readme_table_comes_from_its_registry():
    from tfvae import cli
    from tfvae.models import objectives, posteriors, priors

    train = next(a for a in cli.build_parser()._actions if a.dest == "command").choices["train"]
    actions = {a.dest: a for a in train._actions}
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    for registry in (priors, posteriors, objectives):
        axis = registry.REGISTRY.axis
        assert tuple(actions[axis].choices) == registry.names()
        for name in registry.names():
            value = registry.get(name)
            assert value.help in actions[axis].help
            assert {f.name for f in value.fields} <= set(actions)
        assert registry.markdown_table() in readme, f"README's --{axis} table differs from the registry: " \
            f"regenerate it with python -c 'from tfvae.models import {registry.__name__.split('.')[-1]} as r; " \
            "print(r.markdown_table())'"


def test_a_kind_of_another_field_or_a_missing_one_is_one_clear_error():
    from tfvae.models.config import VAEConfig
    from tfvae.errors import TfvaeError

    with pytest.raises(TfvaeError, match="--latent_dim1 is an option of --model vae2, not of vae"):
        VAEConfig(model="vae", latent_dim1=5)
    assert VAEConfig.from_dict({"model": "vae", "latent_dim1": 0, "hidden2": []}) == VAEConfig()  # 0.1 configs
    with pytest.raises(TfvaeError, match="--model must be one of vae, ae, cvae, vae2"):
        VAEConfig(model="nope")


# ------------------------------------------------------------------ a kind from outside the package
PLUGIN = '''
"""A kind from outside tfvae: a VAE whose steps clip the gradients' global norm (its own --clip_norm)."""

from tfvae.errors import TfvaeError
from tfvae.models.kinds import Field, register
from tfvae.models.kinds.vae import VAEKind


@register
class ClipVAE(VAEKind):
    name = "clipvae"
    help = "a VAE whose steps clip the gradients' global norm (a plugin)"
    fields = (Field("clip_norm", 1.0, "largest global norm of a step's gradients", type="float"),)

    def check(self, cfg):
        super().check(cfg)
        if cfg.clip_norm <= 0:
            raise TfvaeError(f"--clip_norm must be > 0, got {cfg.clip_norm}")

    def apply_gradients(self, model, tape, losses):
        from tfvae._tf import tf

        grads = tape.gradient(losses["loss"], model.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, model.config.clip_norm)
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
        if hasattr(model, "hook_calls"):
            model.hook_calls.assign_add(1)
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    """The plugin installed with pip into a directory of its own, found through the tfvae.kinds entry point."""
    src = tmp_path_factory.mktemp("plugin_src")
    (src / "tfvae_clipkind").mkdir()
    (src / "tfvae_clipkind" / "__init__.py").write_text(PLUGIN)
    (src / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=64"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "tfvae-clipkind"
        version = "0.1"

        [project.entry-points."tfvae.kinds"]
        clipvae = "tfvae_clipkind"

        [tool.setuptools]
        packages = ["tfvae_clipkind"]
    '''))
    site = tmp_path_factory.mktemp("plugin_site")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                        "--target", str(site), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return site


def _tfvae(site, *argv, cwd):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), ROOT])}
    return subprocess.run([sys.executable, "-m", "tfvae", *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_a_kind_installed_from_outside_trains_evaluates_and_exports(plugin_site, tiny_idx_dir, tmp_path):
    help_text = _tfvae(plugin_site, "train", "--help", cwd=tmp_path).stdout
    assert "clipvae: a VAE whose steps clip" in help_text and "--clip_norm" in help_text
    run = tmp_path / "run"
    r = _tfvae(plugin_site, "train", "--model", "clipvae", "--clip_norm", "0.5", "--dataset", f"idx:{tiny_idx_dir}",
               "--epoch", "2", "--batch", "16", "--latent_dim", "3", "--hidden", "16", "--no_images", "--run_dir",
               str(run), cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    saved = __import__("json").loads((run / "config.json").read_text())["model"]
    assert saved["model"] == "clipvae" and saved["clip_norm"] == 0.5
    r = _tfvae(plugin_site, "eval", "--load_weight_dir", str(run), "--iwae_samples", "5", "--output",
               str(tmp_path / "m.json"), cwd=tmp_path)
    assert r.returncode == 0 and "model=clipvae" in r.stdout, r.stderr[-3000:]
    r = _tfvae(plugin_site, "export", "--load_weight_dir", str(run), "--export_dir", str(tmp_path / "exp"), cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "exp" / "decoder" / "1" / "saved_model.pb").is_file(), r.stderr[-3000:]
    bad = _tfvae(plugin_site, "train", "--model", "clipvae", "--clip_norm", "0", "--dataset", f"idx:{tiny_idx_dir}",
                 "--run_dir", str(tmp_path / "bad"), cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip() == "tfvae: error: --clip_norm must be > 0, got 0.0", bad.stderr
    # without the plugin installed its weights are refused in one line
    gone = subprocess.run([sys.executable, "-m", "tfvae", "eval", "--load_weight_dir", str(run)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert gone.returncode == 2 and "a kind this tfvae does not know" in gone.stderr, gone.stderr
    assert len(gone.stderr.strip().splitlines()) == 1, gone.stderr


def test_the_gradient_hook_runs_on_every_path(plugin_site):
    """The kind's apply_gradients runs once per optimizer step: graph step, XLA step, each step of a stack."""
    code = textwrap.dedent('''
        import numpy as np, keras, tensorflow as tf
        from tfvae import models
        from tfvae.engine import functions, optim
        x = tf.constant((np.random.default_rng(0).random((3, 8, 28, 28, 1)) > 0.6).astype(np.float32))
        for xla, stack in ((False, 1), (True, 1), (False, 3), (True, 3)):
            model = models.VAE(model="clipvae", latent_dim=3, hidden=(16,), clip_norm=1e-3).build_all()
            model.hook_calls = tf.Variable(0, trainable=False)
            model.compile(optimizer=optim.FusedAdam(1e-2), xla_step=xla, steps_per_call=stack)
            step = tf.function(functions.train_function_step(model))
            before = model.get_weights()
            for i in range(3 // stack):
                step(x if stack > 1 else x[i])
            assert int(model.hook_calls) == 3, (xla, stack, int(model.hook_calls))
            assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))
        print("ok")
    ''')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_site), ROOT])}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]
