"""Writes the item-to-item benchmark's purchases (deterministic: 1M customers, 5M
purchases, 200k items with a long-tailed popularity) and times DuckDB and chDB computing
each item's 10 most co-purchased items from them.

Usage: recommend_bench.py generate OUT.csv [CUSTOMERS PURCHASES ITEMS]
       recommend_bench.py peers PURCHASES.csv
"""
import sys
import time

SQL_PAIRS = """
WITH p AS (SELECT DISTINCT customer_id, item_id FROM {table}),
pairs AS (
  SELECT a.item_id AS i, b.item_id AS j, count(*) AS c
  FROM p a JOIN p b ON a.customer_id = b.customer_id AND a.item_id <> b.item_id
  GROUP BY a.item_id, b.item_id)
SELECT count(*), sum(c) FROM (
  SELECT i, j, c, row_number() OVER (PARTITION BY i ORDER BY c DESC, j) AS rn FROM pairs)
WHERE rn <= 10
"""


def generate(out, customers=1_000_000, purchases=5_000_000, items=200_000):
    import numpy as np
    rng = np.random.default_rng(20261207)
    # Item popularity ∝ 1 / (rank + 10): a long tail with a few best-sellers.
    weights = 1.0 / (np.arange(items) + 10.0)
    weights /= weights.sum()
    item = rng.choice(items, size=purchases, p=weights)
    # Customers' purchase counts vary: an exponential spread (wrapped round, so no one
    # customer collects the tail), most buying a few items, some dozens.
    customer = (rng.exponential(1.0, size=purchases) * customers / 4).astype(np.int64) % customers
    customer = rng.permutation(customers)[customer]
    with open(out, "w") as f:
        f.write("customer_id,item_id\n")
        for c, i in zip(customer.tolist(), item.tolist()):
            f.write(f"c{c},i{i}\n")


def peers(path):
    import duckdb
    con = duckdb.connect()
    con.execute(f"CREATE TABLE purchases AS SELECT * FROM read_csv('{path}', header=true)")
    started = time.perf_counter()
    duck = con.execute(SQL_PAIRS.format(table="purchases")).fetchall()
    duck_s = time.perf_counter() - started
    print(f"duckdb {duckdb.__version__}: {duck_s:.2f} s ({duck[0][0]} neighbour rows)")
    import chdb.session
    sess = chdb.session.Session()
    sess.query("CREATE DATABASE IF NOT EXISTS b")
    sess.query("CREATE TABLE b.purchases (customer_id String, item_id String) ENGINE = Memory")
    sess.query(f"INSERT INTO b.purchases SELECT * FROM file('{path}', CSVWithNames)")
    started = time.perf_counter()
    ch = sess.query(SQL_PAIRS.format(table="b.purchases"), "CSV")
    ch_s = time.perf_counter() - started
    print(f"chdb {chdb.__version__}: {ch_s:.2f} s ({str(ch).strip()})")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2], *map(int, sys.argv[3:6]))
    else:
        peers(sys.argv[2])
