"""scikit-learn's side of the "same split" comparison with asgard's TypeScript trainer.

    python same_split.py frame TRAIN_PY OUT.parquet   # the compiled script's training frame + its settings (JSON)
    python same_split.py fit TRAIN_PY FRAME.parquet SPLIT.json  # fit on SPLIT's train rows, ROC AUC on its test rows

The compiled training script (TRAIN_PY) is imported, not copied: the frame is its own
load_training_frame() (Feast point-in-time join of the label rows), the estimator, parameters,
seed and imputation are its own.
"""

import importlib.util
import json
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def load(train_py):
    spec = importlib.util.spec_from_file_location("asgard_train", train_py)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def frame(train_py, out):
    m = load(train_py)
    f = m.load_training_frame()
    cols = [m.JOIN_KEY, "event_timestamp", *m.FEATURES, m.LABEL]
    f[cols].to_parquet(out, index=False)
    print(json.dumps({"rows": len(f), "features": m.FEATURES, "label": m.LABEL, "params": m.PARAMS, "test": m.TEST_SIZE, "stratify": m.STRATIFY, "seed": m.SEED}))


def fit(train_py, frame_path, split_path):
    m = load(train_py)
    f = pd.read_parquet(frame_path)
    split = json.load(open(split_path))
    X = f[m.FEATURES].astype("float32")
    y = f[m.LABEL].astype(int)
    tr, te = np.array(split["train"], dtype=int), np.array(split["test"], dtype=int)
    X_train, X_test, y_train, y_test = X.iloc[tr], X.iloc[te], y.iloc[tr], y.iloc[te]
    fills = {n: float(v) if not np.isnan(v) else 0.0 for n, v in X_train.median().items()}
    X_train, X_test = X_train.fillna(fills), X_test.fillna(fills)
    cls = next(v for k, v in vars(m).items() if k.endswith("Classifier") and isinstance(v, type))
    extra = {"n_jobs": -1} if "n_jobs" in cls().get_params() else {}
    model = cls(**m.PARAMS, random_state=m.SEED, **extra)
    model.fit(X_train, y_train)
    proba = model.predict_proba(X_test)[:, 1]
    print(json.dumps({"estimator": cls.__name__, "train_rows": len(tr), "test_rows": len(te), "roc_auc": float(roc_auc_score(y_test, proba))}))


if __name__ == "__main__":
    {"frame": frame, "fit": fit}[sys.argv[1]](*sys.argv[2:])
