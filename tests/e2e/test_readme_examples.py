"""The README's Python examples run as written (on less data and fewer epochs) and print no warning."""

import os
import re
import sys

import pytest
from tests.helpers import FREY, ROOT, run_together

# Only sizes change: the same calls, on a few hundred images for one epoch.
SMALLER = [
    ('data.DataConfig("mnist", binarize="dynamic")',
     'data.DataConfig("mnist", binarize="dynamic", train_examples=300, val_examples=100)'),
    ("epochs=5)", "epochs=1)"),
    ('config.DataConfig("mnist", binarize="dynamic")',
     'config.DataConfig("mnist", binarize="dynamic", train_examples=300, val_examples=100)'),
    ("config.TrainConfig(epoch=5)", "config.TrainConfig(epoch=1, run_dir='run', images=False)"),
    ("iwae_samples=500)", "iwae_samples=5, num_examples=50)"),
    ('formats=("saved_model", "litert", "onnx")', 'formats=("saved_model",)'),
    ("latent_dims=(2, 10),", "latent_dims=(2,), eval_examples=20, iwae_samples=5,"),
    ('data_dir="../shared/data/freyface")', 'data_dir=FREY), train_config=config.TrainConfig(epoch=1)'),
]


def _python_blocks(readme):
    return re.findall(r"```python\n(.*?)```", readme, re.S)


@pytest.fixture(scope="module")
def ran(tfds_dir, tmp_path_factory):
    """Both examples at once, each in a fresh process in its own directory: ``[(block, code run, result)]``."""
    blocks = _python_blocks(open(os.path.join(ROOT, "README.md"), encoding="utf-8").read())[:2]
    codes, commands = [], []
    for block in blocks:
        code = block
        for old, new in SMALLER:
            code = code.replace(old, new)
        codes.append(code)
        commands.append(([sys.executable, "-c", f"FREY = {FREY!r}\n" + code],
                         dict(cwd=tmp_path_factory.mktemp("readme"), env={**os.environ, "PYTHONPATH": ROOT})))
    return list(zip(blocks, codes, run_together(*commands)))


@pytest.mark.slow  # each example trains in a fresh process
@pytest.mark.parametrize("index", [0, 1], ids=["quick start", "commands as library functions"])
def test_the_readme_python_examples_run_without_a_warning(index, ran):
    block, code, r = ran[index]
    assert code != block, "the README's example changed: update SMALLER"
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert "Warning" not in out and "warning" not in out, out[-3000:]
