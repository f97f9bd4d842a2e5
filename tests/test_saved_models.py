"""The committed reference SavedModels serve as their READMEs say, with TensorFlow alone."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
MODELS = ["impedance_generator", "density_classifier", "coulomb_cinn"]
GUARD = "\nimport sys\nassert 'tfp_physflow' not in sys.modules and 'tensorflow_probability' not in sys.modules\n"


def readme(model):
    return (ROOT / "saved_models" / model / "README.md").read_text()


def test_each_readme_snippet_runs_without_tfp_physflow():
    # One process for the three snippets (TensorFlow's import is most of each run), each in a
    # namespace of its own and compiled under its model's name, which a traceback shows.
    snippets = [(model, re.findall(r"```python\n(.*?)```", readme(model), flags=re.S)) for model in MODELS]
    assert all(len(code) == 1 for _, code in snippets)
    program = "".join(f"exec(compile({code!r}, {model!r}, 'exec'), {{}})\n" for model, (code,) in snippets)
    result = subprocess.run([sys.executable, "-c", program + GUARD], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("model", MODELS)
def test_each_model_serves_the_signatures_its_readme_names(model):
    # Loaded here, not through a saved_model_cli process per model (TensorFlow's import, ~6 s each):
    # test_export runs saved_model_cli itself, and the snippets above serve without tfp_physflow.
    import tensorflow as tf

    documented = re.findall(r'signatures\["(\w+)"\]', readme(model))
    assert documented and set(documented) <= set(tf.saved_model.load(str(ROOT / "saved_models" / model)).signatures)


def test_every_reference_model_is_listed_and_rebuilt_by_the_build_script():
    spec = importlib.util.spec_from_file_location("build", ROOT / "saved_models" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)  # defines the builders; building runs under __main__ only
    index = (ROOT / "saved_models" / "README.md").read_text()
    for model in MODELS:
        assert callable(getattr(build, model)) and f"]({model}/README.md)" in index
        assert (ROOT / "saved_models" / model / "saved_model.pb").exists()
