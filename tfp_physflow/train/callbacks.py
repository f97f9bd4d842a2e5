"""Keras callbacks in the one training loop: a ``keras.callbacks.CallbackList`` that ``fit`` drives.

The loop calls Keras's hooks where ``Model.fit`` calls them: ``on_train_begin``
and ``on_train_end``, ``on_epoch_begin`` and ``on_epoch_end`` (logs: ``loss``,
``val_loss``, ``<phase>_loss`` of a loss with phases, ``learning_rate``),
``on_train_batch_begin`` and ``on_train_batch_end`` (logs: ``loss``, the
epoch's running mean). For the run the model carries what Keras callbacks look
for: ``model.optimizer`` (the optimizer of the first phase; TensorBoard,
ReduceLROnPlateau and LearningRateScheduler read and set its learning rate)
and ``model.stop_training`` (EarlyStopping and TerminateOnNaN set it; the loop
stops after that batch's epoch). Both are removed again afterwards, so nothing
of the run is saved with the model.
"""

import keras

_ABSENT = object()


class Callbacks:
    """The user's callbacks (``None``, one or a list of ``keras.callbacks.Callback``) for one run."""

    def __init__(self, callbacks, model, epochs):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, keras.callbacks.Callback):
            callbacks = [callbacks]
        callbacks = list(callbacks)
        for c in callbacks:
            if not isinstance(c, keras.callbacks.Callback):
                raise TypeError(f"callbacks must be keras.callbacks.Callback objects, got {type(c).__name__}")
        self.model, self.optimizer, self.enabled = model, None, bool(callbacks)
        self.list = keras.callbacks.CallbackList(callbacks, model=model, epochs=epochs, verbose=0)
        self._saved = {}

    def attached(self, optimizer):
        """Context of the run: the model carries ``optimizer`` and ``stop_training`` within it."""
        self.optimizer = optimizer
        return self

    def __enter__(self):
        if self.enabled:
            # object.__setattr__: plain attributes, not tracked as the model's checkpoint dependencies.
            for name, value in (("optimizer", self.optimizer), ("stop_training", False)):
                self._saved[name] = self.model.__dict__.get(name, _ABSENT)
                object.__setattr__(self.model, name, value)
        return self

    def __exit__(self, *exc):
        for name, value in self._saved.items():
            if value is _ABSENT:
                self.model.__dict__.pop(name, None)
            else:
                object.__setattr__(self.model, name, value)
        return False

    @property
    def stop_training(self):
        return self.enabled and bool(self.model.__dict__.get("stop_training", False))
