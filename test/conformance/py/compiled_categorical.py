"""The compiled training job's categorical encoding and ONNX export, on generated rows.

    python compiled_categorical.py TRAIN.py

Imports the compiled train.py (its FEATURES and FEATURE_DTYPES as compiled), generates a frame with
those columns (strings for `string` features, some NULL and some non-ASCII; numbers otherwise),
fits the job's estimator on the job's encoding of the first 2,000 rows and exports it with the
job's export_onnx. Prints {"vocab", "inputs", "max_diff"}: the learned vocabularies, the ONNX input
types, and the largest difference between onnxruntime on the RAW held-out values (NULL sent as an
unseen string) and the estimator on the encoded ones.
"""

import importlib.util
import json
import sys

import numpy as np
import onnxruntime as ort
import pandas as pd


def main(path):
    spec = importlib.util.spec_from_file_location("train", path)
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    rng = np.random.default_rng(7)
    n = 3000
    cols = {}
    for name in job.FEATURES:
        if name in job.CATEGORICAL:
            cols[name] = rng.choice(["b-grocery", "a-gambling", "\U0001F600shop", "\uFF5Emarket", "épicerie", None], n)
        else:
            cols[name] = rng.random(n) * 100
    frame = pd.DataFrame(cols)
    signal = sum((frame[c] == "a-gambling").astype(int) for c in job.CATEGORICAL) + (frame[[c for c in job.FEATURES if c not in job.CATEGORICAL][0]] > 80)
    y = (signal > 0).astype(int).to_numpy()
    vocab = {c: job.fit_vocabulary(frame[c][:2000]) for c in job.CATEGORICAL}
    X = job.encode(frame, vocab)
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:2000], y[:2000])
    session = ort.InferenceSession(job.export_onnx(model, vocab), providers=["CPUExecutionProvider"])
    feeds = {}
    for name in job.FEATURES:
        values = frame[name][2000:]
        if name in vocab:
            feeds[name] = np.array([[v if isinstance(v, str) else "never seen"] for v in values], dtype=object)
        else:
            feeds[name] = values.astype(np.float32).to_numpy().reshape(-1, 1)
    proba = session.run(None, feeds)[-1][:, 1]
    reference = model.predict_proba(X[2000:])[:, 1]
    print(json.dumps({
        "vocab": vocab,
        "inputs": {i.name: i.type for i in session.get_inputs()},
        "max_diff": float(np.max(np.abs(proba - reference))),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
