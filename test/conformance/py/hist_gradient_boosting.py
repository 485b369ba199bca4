"""scikit-learn's HistGradientBoostingClassifier on the rows and split asgard's trainer used.

    python hist_gradient_boosting.py DATA.csv SPLIT.json PARAMS.json

DATA.csv: the feature columns and `label`; SPLIT.json: {"train": [row...], "test": [row...]};
PARAMS.json: the spec's gradient_boosting parameters (asgard's names are scikit-learn's; `none`
is None). Prints {"roc_auc", "positives_predicted", "n_iter", "fit_seconds"} for the test rows.
"""

import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score


def main(data_path, split_path, params_path):
    f = pd.read_csv(data_path)
    split = json.load(open(split_path))
    params = {k: (None if v == "none" else v) for k, v in json.load(open(params_path)).items()}
    if params.get("class_weight") is None:
        params.pop("class_weight", None)
    X = f.drop(columns=["label"]).astype("float32").to_numpy()
    y = f["label"].astype(int).to_numpy()
    tr, te = np.array(split["train"], dtype=int), np.array(split["test"], dtype=int)
    model = HistGradientBoostingClassifier(**params)
    t0 = time.perf_counter()
    model.fit(X[tr], y[tr])
    fit_seconds = time.perf_counter() - t0
    proba = model.predict_proba(X[te])[:, 1]
    print(json.dumps({"roc_auc": float(roc_auc_score(y[te], proba)), "positives_predicted": int((proba > 0.5).sum()), "n_iter": int(model.n_iter_), "fit_seconds": fit_seconds}))


if __name__ == "__main__":
    main(*sys.argv[1:])
