"""Phases of a train step: what a loss asks the loop to update, and in which order."""

from typing import Any, Callable, NamedTuple


class Phase(NamedTuple):
    """One update of a train step: ``repeats`` times, minimise the mean of
    ``loss(model, batch, training)`` over ``variables`` with ``optimizer``
    (None: the optimizer given to ``fit``)."""
    name: str
    loss: Callable
    variables: list
    optimizer: Any = None
    repeats: int = 1


def resolve_phases(loss, model, optimizer):
    if not hasattr(loss, "phases"):
        return [Phase("loss", loss, model.trainable_variables, optimizer)]
    phases = [p._replace(optimizer=p.optimizer or optimizer) for p in loss.phases(model, optimizer)]
    if not phases or not all(isinstance(p, Phase) for p in phases):
        raise ValueError("loss.phases(model, optimizer) must return a non-empty list of Phase")
    for p in phases:
        if not p.variables or not isinstance(p.repeats, int) or p.repeats < 1:
            raise ValueError(f"phase {p.name!r} needs variables and a positive int of repeats")
    return phases
