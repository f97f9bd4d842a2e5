"""Loads exported flows WITHOUT tfp_physflow and reports what they compute.

Usage: load_saved_model.py OUT.json MODEL X.npy [CONDITION.npy] [MODEL X.npy [CONDITION.npy]] ...
given as a JSON list of jobs in argv[2]: [{"model":..., "x":..., "condition":...}, ...]
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

out, jobs = sys.argv[1], json.loads(sys.argv[2])
results = []
for job in jobs:
    model = tf.saved_model.load(job["model"])
    x = np.load(job["x"]).astype("float32")
    inputs = {"x": tf.constant(x)}
    sample_inputs = {"n": tf.constant(20000)}
    if job.get("condition"):
        cond = tf.constant(np.load(job["condition"]).astype("float32"))
        inputs["condition"] = cond
        sample_inputs["condition"] = cond[:1]
    samples = model.signatures["sample"](**sample_inputs)
    results.append({
        "log_prob": model.signatures["log_prob"](**inputs)["log_prob"].numpy().tolist(),
        "sample_shape": samples["samples"].shape.as_list(),
        "sample_mean": samples["samples"].numpy().reshape(-1, x.shape[1]).mean(0).tolist(),
        "sample_std": samples["samples"].numpy().reshape(-1, x.shape[1]).std(0).tolist(),
        "description": json.loads(model.description.numpy().decode()),
    })
imported = {"tfp_physflow": "tfp_physflow" in sys.modules, "tensorflow_probability": "tensorflow_probability" in sys.modules}
with open(out, "w") as f:
    json.dump({"results": results, "imported": imported}, f)
