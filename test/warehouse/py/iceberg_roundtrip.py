# Run by test/warehouse/spark-cluster.test.ts through spark-submit on the loopback Spark cluster:
# creates an Iceberg v2 table in the `lake` catalog (JDBC catalog, S3FileIO on the S3 server),
# appends twice, and prints what it reads back as one JSON line for the test to check.
import json
import sys

from pyspark.sql import SparkSession

table = sys.argv[1]
spark = SparkSession.builder.appName("asgard-iceberg-roundtrip").getOrCreate()
ns = table.rsplit(".", 1)[0]
spark.sql(f"CREATE NAMESPACE IF NOT EXISTS lake.{ns}")
spark.sql(f"CREATE TABLE lake.{table} (id BIGINT, country STRING, amount DOUBLE) USING iceberg "
          "PARTITIONED BY (country) TBLPROPERTIES ('format-version'='2')")
spark.sql(f"INSERT INTO lake.{table} VALUES (1, 'NL', 10.0), (2, 'DE', 5.5)")
spark.sql(f"INSERT INTO lake.{table} VALUES (3, 'NL', 2.5)")
rows = [r.asDict() for r in spark.sql(f"SELECT country, count(*) AS n, sum(amount) AS total FROM lake.{table} GROUP BY country ORDER BY country").collect()]
snapshots = spark.sql(f"SELECT count(*) AS n FROM lake.{table}.snapshots").collect()[0]["n"]
print("RESULT " + json.dumps({"rows": rows, "snapshots": snapshots}), flush=True)
spark.stop()
