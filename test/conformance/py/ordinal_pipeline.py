"""scikit-learn's encoding of categorical features, and a pipeline with it, on asgard's rows and split.

    python ordinal_pipeline.py DATA.csv SPLIT.json PARAMS.json CATEGORICAL,...

DATA.csv: the feature columns (categorical ones as strings, empty for NULL) and `label`;
SPLIT.json: {"train": [row...], "test": [row...]}; PARAMS.json: HistGradientBoostingClassifier
parameters. The encoder is OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
encoded_missing_value=-1) fitted on the training rows: what asgard documents for `string`
features. Prints {"categories": {feature: [...]}, "test_codes": {feature: [...]}, "roc_auc"}.
"""

import json
import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder


def main(data_path, split_path, params_path, categorical):
    cats = categorical.split(",")
    f = pd.read_csv(data_path, dtype={c: object for c in cats}, keep_default_na=False, na_values={c: [""] for c in cats})
    split = json.load(open(split_path))
    params = json.load(open(params_path))
    X = f.drop(columns=["label"])
    y = f["label"].astype(int).to_numpy()
    tr, te = np.array(split["train"], dtype=int), np.array(split["test"], dtype=int)
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    pre = ColumnTransformer([("cat", encoder, cats)], remainder="passthrough")
    model = Pipeline([("encode", pre), ("hgb", HistGradientBoostingClassifier(**params))])
    model.fit(X.iloc[tr], y[tr])
    fitted = model.named_steps["encode"].named_transformers_["cat"]
    codes = fitted.transform(X.iloc[te][cats])
    proba = model.predict_proba(X.iloc[te])[:, 1]
    print(json.dumps({
        # NaN (NULL) is listed last in categories_ but encoded as -1: not a category.
        "categories": {c: [v for v in fitted.categories_[k] if isinstance(v, str)] for k, c in enumerate(cats)},
        "test_codes": {c: [int(v) for v in codes[:, k]] for k, c in enumerate(cats)},
        "roc_auc": float(roc_auc_score(y[te], proba)),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:5])
