"""A one-line progress bar for the training loop."""

import sys
import time


class Progress:
    """Shows epoch, step, loss, validation loss and samples per second.

    On a terminal the line is redrawn in place during an epoch; elsewhere
    (logs, CI) one line is printed per epoch. ``enabled=False`` silences it.
    """

    def __init__(self, epochs, enabled=True, stream=None):
        self.epochs, self.enabled = epochs, enabled
        self.stream = stream or sys.stdout
        self.live = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()

    def start_epoch(self, epoch):
        self.epoch, self.start, self.samples = epoch, time.perf_counter(), 0

    def rate(self):
        return self.samples / max(time.perf_counter() - self.start, 1e-9)

    def step(self, step, steps, loss, batch_size):
        self.samples += batch_size
        if self.live and (step % 10 == 0 or step == steps):
            self._write(f"\r{self._head()} {step}/{steps or '?'} loss {loss:.4f} {self.rate():,.0f}/s", end="")

    def end_epoch(self, loss, val_loss, note=""):
        val = "" if val_loss is None else f" val_loss {val_loss:.4f}"
        line = f"{self._head()} loss {loss:.4f}{val} {self.rate():,.0f} samples/s{note}"
        self._write("\r" + line + "\033[K" if self.live else line)

    def message(self, text):
        self._write(("\n" if self.live else "") + text)

    def _head(self):
        return f"epoch {self.epoch + 1}/{self.epochs}"

    def _write(self, text, end="\n"):
        if self.enabled:
            print(text, end=end, file=self.stream, flush=True)
