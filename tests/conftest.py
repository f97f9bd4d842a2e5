"""Shared test set-up: quiet TensorFlow, imported once per test run."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
