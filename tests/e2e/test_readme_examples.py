"""The README's Python examples run as written (on less data and fewer epochs) and print no warning."""

import os
import re
import subprocess
import sys

import pytest
from tests.helpers import ROOT

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


@pytest.mark.slow  # each example trains in a fresh process
@pytest.mark.parametrize("index", [0, 1], ids=["quick start", "commands as library functions"])
def test_the_readme_python_examples_run_without_a_warning(index, tfds_dir, tmp_path):
    block = _python_blocks(open(os.path.join(ROOT, "README.md"), encoding="utf-8").read())[index]
    code = block
    for old, new in SMALLER:
        code = code.replace(old, new)
    assert code != block, "the README's example changed: update SMALLER"
    frey = os.path.join(os.environ.get("TFVAE_SHARED", os.path.join(ROOT, "..", "shared")), "data", "freyface")
    r = subprocess.run([sys.executable, "-c", f"FREY = {frey!r}\n" + code], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": ROOT})
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert "Warning" not in out and "warning" not in out, out[-3000:]
