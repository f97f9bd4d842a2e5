"""The physflow command."""

import shutil
import subprocess

import pytest

from tfp_physflow.cli import main


def test_smoke_trains_a_flow_and_prints_the_comparison(capsys):
    assert main(["smoke", "--kind", "maf", "--layers", "2", "--epochs", "4", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "held-out log-likelihood per point: flow" in out and "fitted Gaussian" in out


def test_smoke_shows_progress_unless_quiet(capsys):
    main(["smoke", "--kind", "diagonal", "--epochs", "2"])
    assert "epoch 2/2 loss" in capsys.readouterr().out  # the one loop's progress line


def test_console_script_is_installed_and_help_names_an_example():
    exe = shutil.which("physflow")
    assert exe, "the physflow console script is not on PATH: install the package (README)"
    out = subprocess.run([exe, "smoke", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "Example: physflow smoke" in out.stdout


def test_unknown_option_exits_non_zero():
    with pytest.raises(SystemExit) as err:
        main(["smoke", "--kind", "glow"])
    assert err.value.code != 0
