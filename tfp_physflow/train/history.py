"""Training history: one row per epoch, saved as JSON or CSV."""

import csv
import json
import os


class History:
    """Rows of per-epoch records (epoch, loss, val_loss, seconds, ...).

    ``history["loss"]`` is a column; ``best_epoch`` and ``stop_reason`` say
    how the run ended.
    """

    def __init__(self, rows=None, best_epoch=None, stop_reason=None):
        self.rows = list(rows or [])
        self.best_epoch, self.stop_reason = best_epoch, stop_reason

    def append(self, **row):
        self.rows.append(row)

    def __getitem__(self, key):
        return [row.get(key) for row in self.rows]

    def __len__(self):
        return len(self.rows)

    def as_dict(self):
        return {"rows": self.rows, "best_epoch": self.best_epoch, "stop_reason": self.stop_reason}

    def save(self, path):
        """Writes JSON (``.json``) or CSV (any other suffix), atomically."""
        tmp = f"{path}.tmp"
        with open(tmp, "w", newline="") as f:
            if str(path).endswith(".json"):
                json.dump(self.as_dict(), f, indent=1)
            else:
                keys = sorted({k for row in self.rows for k in row}, key=lambda k: (k != "epoch", k))
                writer = csv.DictWriter(f, fieldnames=keys)
                writer.writeheader()
                writer.writerows(self.rows)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path):
        """Reads a history written by ``save`` as JSON."""
        with open(path) as f:
            return cls(**json.load(f))
