"""Checks on the training loop's scalar arguments, with errors that name the argument."""

import math
import numbers

from ..validation import optional_count, positive_int, positive_number


def check_fit_arguments(batch_size, epochs, learning_rate, optimizer, patience, min_delta, min_rel_change):
    """Raises ValueError for the first argument of ``fit`` that cannot be right."""
    positive_int(batch_size, "batch_size")
    positive_int(epochs, "epochs")
    if optimizer is None:
        positive_number(learning_rate, "learning_rate")
    optional_count(patience, "patience")
    if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real) or not (
            math.isfinite(min_delta) and min_delta >= 0):
        raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
    if min_rel_change is not None:
        positive_number(min_rel_change, "min_rel_change")
