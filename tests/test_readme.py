"""The README's Python examples run as written.

The examples form independent chains (each later block of a chain may use
names an earlier one defined); each chain runs as its own test in a fresh
namespace, so that the two test workers can share them; the quick start's
runs by default, the other two with ``pytest -m slow``.
"""

import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
PREAMBLE = "import numpy as np\nimport tfp_physflow as pf\n"
# README sections (## or ###) whose examples continue the quick start's (its flow, x, moons_model).
QUICK_START_CHAIN = ("Using it from Python", "Training", "Several devices and several machines", "Serving")
PHYSICS_CHAIN = ("Physics: equivalent circuits", "Amortized circuit posteriors", "Physics-aware adversarial flows")


def python_blocks():
    """[(section heading, code)] of every ```python block, in README order."""
    blocks, section = [], None
    for part in re.split(r"^(#{2,3} .*)$", README.read_text(), flags=re.M):
        if re.match(r"#{2,3} ", part):
            section = part.lstrip("#").strip()
        else:
            blocks += [(section, code) for code in re.findall(r"```python\n(.*?)```", part, flags=re.S)]
    return blocks


def chain_of(section):
    return "quick start" if section in QUICK_START_CHAIN else "physics" if section in PHYSICS_CHAIN else "models"


# The quick start's chain runs by default. The other two (36 s each) are slow: every call in them
# is also tested on its own (test_circuits, test_circuit_posterior, test_adversarial, test_coulomb,
# test_physics_vae, test_classify); what they add is that the README's text runs as written.
@pytest.mark.parametrize("chain", [pytest.param("quick start", marks=pytest.mark.xdist_group("readme quick start")),
                                   *(pytest.param(c, marks=pytest.mark.slow) for c in ("physics", "models"))])
def test_readme_python_examples_run(chain, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = [code for section, code in python_blocks() if chain_of(section) == chain]
    assert len(blocks) >= 3
    namespace = {}
    exec(compile(PREAMBLE, "preamble", "exec"), namespace)  # noqa: S102
    for code in blocks:
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
    if chain == "quick start":
        assert (tmp_path / "loss.png").stat().st_size > 0 and (tmp_path / "log.csv").stat().st_size > 0
        assert (tmp_path / "moons_model" / "saved_model.pb").exists()
        assert (tmp_path / "ckpt" / "checkpoint").exists()


def test_every_python_example_belongs_to_a_chain():
    sections = {section for section, _ in python_blocks()}
    assert set(QUICK_START_CHAIN) | set(PHYSICS_CHAIN) <= sections  # a renamed section is noticed
    assert sum(chain_of(s) == "models" for s in sections) >= 3
