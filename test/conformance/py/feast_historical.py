"""Point-in-time retrieval with the real Feast SDK on a compiled, applied feature repository.

    python feast_historical.py REPO FEATURE_SERVICE ENTITIES.parquet OUT.parquet

Entity rows: the join key and event_timestamp (UTC). Output: the entity rows with the service's
features, as Feast returns them (feature names without the view prefix).
"""

import sys

import pandas as pd
from feast import FeatureStore


def main(repo, service_name, entities_path, out_path):
    store = FeatureStore(repo_path=repo)
    entity_df = pd.read_parquet(entities_path)
    entity_df["event_timestamp"] = pd.to_datetime(entity_df["event_timestamp"], utc=True)
    service = store.get_feature_service(service_name)
    frame = store.get_historical_features(entity_df=entity_df, features=service).to_df()
    frame.to_parquet(out_path, index=False)
    print(f"{len(frame)} rows, columns {list(frame.columns)}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
