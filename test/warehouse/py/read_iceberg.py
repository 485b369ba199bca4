"""Read Iceberg tables through pyiceberg's SqlCatalog, as another engine would: print one JSON
document with each table's schema (field ids), partition spec, snapshots and rows.

    python read_iceberg.py CATALOG_URI CATALOG_NAME NAMESPACE.TABLE[@SNAPSHOT_ID] [ROW_FILTER]...
"""
import datetime
import decimal
import json
import os
import sys

from pyiceberg.catalog.sql import SqlCatalog


def plain(v):
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.hex()
    return v


def main():
    uri, name, *specs = sys.argv[1:]
    # FileIO properties (s3.endpoint, s3.path-style-access…) for tables on an object store.
    catalog = SqlCatalog(name, uri=uri, **json.loads(os.environ.get("ASGARD_PYICEBERG_PROPS", "{}")))
    out = {"tables": sorted(".".join(t) for ns in catalog.list_namespaces() for t in catalog.list_tables(ns)), "reads": []}
    for spec in specs:
        head, _, row_filter = spec.partition("?")
        table_name, _, snapshot = head.partition("@")
        table = catalog.load_table(table_name)
        scan = table.scan(
            snapshot_id=int(snapshot) if snapshot else None,
            row_filter=row_filter or "True",
        )
        arrow = scan.to_arrow()
        out["reads"].append({
            "table": table_name,
            "schema": [{"id": f.field_id, "name": f.name, "type": str(f.field_type)} for f in table.schema().fields],
            "spec": [{"name": f.name, "source": f.source_id, "transform": str(f.transform)} for f in table.spec().fields],
            "snapshots": [str(s.snapshot_id) for s in table.snapshots()],
            "current": str(table.current_snapshot().snapshot_id) if table.current_snapshot() else None,
            "rows": [{k: plain(v) for k, v in r.items()} for r in arrow.to_pylist()],
        })
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
