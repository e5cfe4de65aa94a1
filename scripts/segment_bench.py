"""The segment benchmark: who put things in the cart at least twice in the last 30 days
and bought nothing in them, over the same events CSV, on nunchi's rule evaluator, chDB and
DuckDB; prints each engine's median of N runs, the ratios, and whether the memberships
agree (member count and the sum of their customer ids).

Usage: segment_bench.py NUNCHI_BIN EVENTS_CSV [RUNS]
"""
import json
import statistics
import subprocess
import sys
import time

import chdb
import duckdb
from chdb import session


def median_of(runs, query):
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = query()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def membership_sql(since, count_if):
    # One pass over the window: carts and purchases per customer, then the rule.
    return (f"SELECT count(*), coalesce(sum(customer_id), 0) FROM (SELECT customer_id FROM events "
            f"WHERE timestamp >= {since} GROUP BY customer_id "
            f"HAVING {count_if('add_to_cart')} >= 2 AND {count_if('purchase')} = 0)")


def main():
    nunchi_bin, path = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    print(f"nunchi segment, {runs} runs …", flush=True)
    ours = json.loads(subprocess.run([nunchi_bin, "analyze", "segment-bench", "--events", path, "--runs", str(runs)],
                                     check=True, capture_output=True, text=True).stdout)
    since = ours["since"]
    results = {"nunchi": (ours["secs"], (ours["members"], ours["id_sum"]))}

    s = session.Session()
    s.query("CREATE TABLE events (customer_id UInt32, event LowCardinality(String), "
            "timestamp UInt32, channel LowCardinality(String)) "
            "ENGINE = MergeTree ORDER BY (customer_id, timestamp)")
    s.query(f"INSERT INTO events SELECT * FROM file('{path}', CSVWithNames)")
    sql = membership_sql(since, lambda e: f"countIf(event = '{e}')")
    chdb_run = lambda: tuple(int(x) for x in str(s.query(sql, "CSV")).strip().split(","))
    results["chDB " + chdb.__version__] = median_of(runs, chdb_run)

    con = duckdb.connect()
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_csv('{path}', header = true, columns = "
                "{'customer_id': 'UINTEGER', 'event': 'VARCHAR', 'timestamp': 'UINTEGER', 'channel': 'VARCHAR'})")
    sql = membership_sql(since, lambda e: f"count(*) FILTER (WHERE event = '{e}')")
    duck_run = lambda: tuple(int(x) for x in con.execute(sql).fetchone())
    results["DuckDB " + duckdb.__version__] = median_of(runs, duck_run)

    print(f"\n{ours['events']:,} events, {ours['customers']:,} customers; window from {since} "
          f"to {ours['now']} (Unix s); median of {runs} runs")
    print(f"{'engine':<16}{'seconds':>10}{'× nunchi':>10}{'members':>12}  same members")
    mine = results["nunchi"]
    for name, (secs, out) in results.items():
        print(f"{name:<16}{secs:>10.4f}{secs / mine[0]:>9.1f}x{out[0]:>12,}  "
              f"{'yes' if out == mine[1] else 'NO ' + str(out)}")
    print(f"\nnunchi judges single customers (rule and next change) at "
          f"{ours['singles_per_sec']:,.0f} per second")


if __name__ == "__main__":
    main()
