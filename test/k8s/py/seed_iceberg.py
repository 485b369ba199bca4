"""Create (or replace) Iceberg tables in a SQL catalog from Parquet files, as an upstream job would
have written them: each table at <warehouse>/<layer>/<table>, its files on the object store.

    python seed_iceberg.py CATALOG_URI WAREHOUSE LAYER.TABLE=FILE.parquet...

FileIO properties (s3.endpoint, credentials) come as JSON in ASGARD_PYICEBERG_PROPS.
"""
import json
import os
import sys

import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog


def main():
    uri, warehouse, *tables = sys.argv[1:]
    catalog = SqlCatalog("iceberg", uri=uri, warehouse=warehouse, **json.loads(os.environ.get("ASGARD_PYICEBERG_PROPS", "{}")))
    for spec in tables:
        name, _, path = spec.partition("=")
        layer, _, table = name.partition(".")
        data = pq.read_table(path)
        catalog.create_namespace_if_not_exists(layer)
        if catalog.table_exists((layer, table)):
            catalog.drop_table((layer, table))
        t = catalog.create_table((layer, table), schema=data.schema, location=f"{warehouse.rstrip('/')}/{layer}/{table}")
        t.append(data)
        print(f"{name}: {data.num_rows} rows", flush=True)


if __name__ == "__main__":
    main()
