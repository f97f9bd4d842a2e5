"""Losses for the training loop: objects called as ``loss(model, batch, training)``.

Each returns a per-example loss of shape (batch,), so that the loop can
average it over the global batch under any ``tf.distribute`` strategy.
"""


class NegativeLogLikelihood:
    """-log p(x | condition) of a Flow; ``batch`` is (x,) or (x, condition)."""

    def __call__(self, model, batch, training=True):
        x, *rest = batch
        return -model.log_prob(x, rest[0] if rest else None)
