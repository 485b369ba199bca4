"""Read Iceberg tables with Spark, as another engine would: through the catalog `iceberg` that
spark-submit's properties configure (Iceberg's JDBC catalog, S3FileIO). Writes one JSON document
{table: {"columns": [...], "rows": [...]}} to OUT, values in read_iceberg.py's forms so the rows
compare with pyiceberg's and asgard's.

    spark-submit … read_tables.py OUT NAMESPACE.TABLE...
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "warehouse", "py"))
from read_iceberg import plain  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

out, *tables = sys.argv[1:]
spark = SparkSession.builder.getOrCreate()
result = {}
for t in tables:
    df = spark.table(f"iceberg.{t}")
    result[t] = {"columns": df.columns, "rows": [{k: plain(v) for k, v in r.asDict().items()} for r in df.collect()]}
with open(out, "w") as f:
    json.dump(result, f)
spark.stop()
