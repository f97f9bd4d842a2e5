"""Human locomotion joint angles (hip, knee, ankle over one gait cycle) as
processed for the physics-integrated VAE papers; see ../shared/data/locomotion/README."""

import os

import numpy as np


def load_locomotion(folder, split="train"):
    """(N, 3, 101) joint angles in radians from ``folder/data_{split}.mat`` (variable ``data``)."""
    from scipy.io import loadmat

    if split not in ("train", "valid", "test"):
        raise ValueError(f"split must be 'train', 'valid' or 'test', got {split!r}")
    path = os.path.join(os.fspath(folder), f"data_{split}.mat")
    if not os.path.isfile(path):
        raise ValueError(f"{path} not found: the locomotion data (data_train/valid/test.mat) come from "
                         "figshare doi 10.6084/m9.figshare.c.4494755.v1, processed as in its README")
    data = loadmat(path).get("data")
    if data is None or data.ndim != 3 or data.shape[1] != 3:
        raise ValueError(f"{path} must hold a variable 'data' of shape (N, 3, T)")
    data = np.asarray(data, np.float64)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{path} contains NaN or inf")
    return data
