"""TensorFlow, imported without its C++ start-up chatter.

On a CPU-only machine TensorFlow 2.21 writes 3-5 lines to file descriptor 2
while it loads (``All log messages before absl::InitializeLog()``, ``Could
not find cuda drivers``, ``failed call to cuInit``, the oneDNN and CPU-feature
notices). ``TF_CPP_MIN_LOG_LEVEL`` does not reach the ones written before absl
is initialised, so this module imports TensorFlow (and probes its devices,
where the CUDA probe runs) with descriptor 2 pointed at a temporary file, puts
descriptor 2 back at once, and writes back every captured line that is not one
of those notices: real warnings and errors still show, and an import that fails
still raises with its output shown. Every tfvae module imports TensorFlow from
here (``from tfvae._tf import tf``) before Keras.
"""

import os
import re
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# Start-up notices only; anything else TensorFlow prints passes through.
NOISE = re.compile(
    r"absl::InitializeLog\(\)|cudart_stub\.cc|cuda_platform\.cc|failed call to cuInit|cuda_(dnn|fft|blas)\.cc"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|cpu_feature_guard\.cc"
    r"|rebuild TensorFlow with the appropriate compiler flags|port\.cc:\d+\] oneDNN custom operations"
    r"|TF-TRT Warning: Could not find TensorRT|computation_placer\.cc"
)


def _filtered(text):
    return "".join(line for line in text.splitlines(True) if not NOISE.search(line))


def import_quietly():
    """Imports ``tensorflow`` with its start-up notices filtered out; returns the module."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real descriptor 2 (embedded interpreters)
        import tensorflow

        return tensorflow
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow

            tensorflow.config.list_physical_devices()  # the CUDA probe logs here, not at import
        finally:
            try:
                sys.stderr.flush()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            captured.seek(0)
            rest = _filtered(captured.read().decode("utf-8", errors="replace"))
            if rest:
                sys.stderr.write(rest)
                sys.stderr.flush()
    return tensorflow


tf = import_quietly()
