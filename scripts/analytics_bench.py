"""Runs the analytics benchmark queries on DuckDB and chDB over the same events CSV that
nunchi's engine reads, and prints each engine's median of N runs and the ratios.

Usage: analytics_bench.py NUNCHI_BIN EVENTS_CSV [RUNS]
"""
import json
import statistics
import subprocess
import sys
import time

import chdb
import duckdb
from chdb import session

WEEK, DAY = 604800, 86400
FUNNEL_4 = ["visit", "view_product", "add_to_cart", "purchase"]
FUNNEL_12 = ["visit", "view_product", "add_to_cart", "begin_checkout", "purchase",
             "order_shipped", "order_delivered", "review_written",
             "visit", "view_product", "add_to_cart", "purchase"]


def median_of(runs, query):
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = query()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def reached(level_counts, steps):
    """Level histogram -> customers who reached at least step k."""
    return [sum(n for level, n in level_counts if level >= k) for k in range(1, steps + 1)]


def chdb_queries(path):
    s = session.Session()
    s.query("CREATE TABLE events (customer_id UInt32, event LowCardinality(String), "
            "timestamp UInt32, channel LowCardinality(String)) "
            "ENGINE = MergeTree ORDER BY (customer_id, timestamp)")
    start = time.perf_counter()
    s.query(f"INSERT INTO events SELECT * FROM file('{path}', CSVWithNames)")
    load = time.perf_counter() - start

    def rows(sql):
        text = str(s.query(sql, "CSV")).strip()
        return [tuple(int(x) if x.lstrip("-").isdigit() else x.strip('"') for x in line.split(","))
                for line in text.splitlines() if line]

    def funnel(steps, window):
        conds = ", ".join(f"event = '{e}'" for e in steps)
        return lambda: reached(rows(
            f"SELECT level, count() FROM (SELECT customer_id, windowFunnel({window})(timestamp, {conds}) "
            f"AS level FROM events GROUP BY customer_id) GROUP BY level"), len(steps))

    transitions = lambda: rows(
        "SELECT pair.1 AS a, pair.2 AS b, count() AS n FROM (SELECT arrayMap(x -> x.2, "
        "arraySort(x -> x.1, groupArray((timestamp, event)))) AS seq FROM events GROUP BY customer_id) "
        "ARRAY JOIN arrayZip(arrayPopBack(seq), arrayPopFront(seq)) AS pair "
        "GROUP BY a, b ORDER BY n DESC LIMIT 50")
    retention = lambda: rows(
        f"WITH first AS (SELECT customer_id, min(timestamp) AS f FROM events GROUP BY customer_id) "
        f"SELECT intDiv(f + 3 * {DAY}, {WEEK}) AS cohort, intDiv(timestamp + 3 * {DAY}, {WEEK}) - cohort AS k, "
        f"uniqExact(customer_id) FROM events INNER JOIN first USING customer_id WHERE k < 14 "
        f"GROUP BY cohort, k ORDER BY cohort, k")
    return load, {"funnel4": funnel(FUNNEL_4, 7 * DAY), "funnel12": funnel(FUNNEL_12, 30 * DAY),
                  "transitions": transitions, "retention": retention}


def duckdb_queries(path):
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_csv('{path}', header = true, columns = "
                "{'customer_id': 'UINTEGER', 'event': 'VARCHAR', 'timestamp': 'UINTEGER', 'channel': 'VARCHAR'})")
    load = time.perf_counter() - start

    def funnel(steps, window):
        # DuckDB has no windowFunnel: from every step-1 event, follow each next step to its
        # earliest occurrence at or after the previous one (ASOF join) within the window;
        # a customer's level is the deepest such chain.
        ctes = [f"s1 AS (SELECT customer_id, timestamp AS t1 FROM events WHERE event = '{steps[0]}')"]
        for k, e in enumerate(steps[1:], start=2):
            ctes.append(f"e{k} AS (SELECT customer_id, timestamp AS t FROM events WHERE event = '{e}')")
            prev = "s1" if k == 2 else f"s{k - 1}"
            carried = ", ".join(f"{prev}.t{j}" for j in range(1, k))
            ctes.append(
                f"s{k} AS (SELECT {prev}.customer_id, {carried}, CASE WHEN e{k}.t <= {prev}.t1 + {window} "
                f"THEN e{k}.t END AS t{k} FROM {prev} ASOF LEFT JOIN e{k} ON {prev}.customer_id = e{k}.customer_id "
                f"AND e{k}.t >= {prev}.t{k - 1})")
        depth = " + ".join(["1"] + [f"(t{k} IS NOT NULL)::INT" for k in range(2, len(steps) + 1)])
        sql = (f"WITH {', '.join(ctes)} SELECT level, count(*) FROM (SELECT customer_id, max({depth}) AS level "
               f"FROM s{len(steps)} GROUP BY customer_id) GROUP BY level")
        return lambda: reached(con.execute(sql).fetchall(), len(steps))

    transitions = lambda: con.execute(
        "SELECT a, b, count(*) AS n FROM (SELECT event AS a, lead(event) OVER (PARTITION BY customer_id "
        "ORDER BY timestamp) AS b FROM events) WHERE b IS NOT NULL GROUP BY a, b ORDER BY n DESC LIMIT 50").fetchall()
    retention = lambda: con.execute(
        f"WITH first AS (SELECT customer_id, min(timestamp) AS f FROM events GROUP BY customer_id) "
        f"SELECT cohort, k, count(DISTINCT customer_id) FROM (SELECT customer_id, (f + 3 * {DAY}) // {WEEK} AS cohort, "
        f"(timestamp + 3 * {DAY}) // {WEEK} - (f + 3 * {DAY}) // {WEEK} AS k FROM events JOIN first USING (customer_id)) "
        f"WHERE k < 14 GROUP BY cohort, k ORDER BY cohort, k").fetchall()
    return load, {"funnel4": funnel(FUNNEL_4, 7 * DAY), "funnel12": funnel(FUNNEL_12, 30 * DAY),
                  "transitions": transitions, "retention": retention}


def main():
    nunchi_bin, path = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    print(f"nunchi engine, {runs} runs each …", flush=True)
    ours = json.loads(subprocess.run([nunchi_bin, "analyze", "bench", "--events", path, "--runs", str(runs), "--json"],
                                     check=True, capture_output=True, text=True).stdout)
    results = {"nunchi": {q: ours[q]["secs"] for q in ("funnel4", "funnel12", "transitions", "retention")}}
    levels = {"nunchi": {q: ours[q]["levels"] for q in ("funnel4", "funnel12")}}
    loads = {"nunchi": ours["load_secs"]}
    for name, build in (("chDB " + chdb.__version__, chdb_queries), ("DuckDB " + duckdb.__version__, duckdb_queries)):
        print(f"{name}, {runs} runs each …", flush=True)
        load, queries = build(path)
        loads[name] = load
        results[name], levels[name] = {}, {}
        for q, run in queries.items():
            secs, out = median_of(runs, run)
            results[name][q] = secs
            if q.startswith("funnel"):
                levels[name][q] = out

    engines = list(results)
    chdb_name, duck_name = engines[1], engines[2]
    print(f"\n{ours['events']:,} events, {ours['customers']:,} customers; median of {runs} runs (seconds)")
    print(f"{'query':<30}" + "".join(f"{e:>16}" for e in engines) + f"{'chDB/nunchi':>14}{'DuckDB/nunchi':>15}")
    labels = {"funnel4": "funnel, 4 steps, 7 days", "funnel12": "funnel, 12 steps, 30 days",
              "transitions": "top-50 transitions", "retention": "weekly retention, 14 wks"}
    for q, label in labels.items():
        row = "".join(f"{results[e][q]:>16.4f}" for e in engines)
        print(f"{label:<30}{row}{results[chdb_name][q] / results['nunchi'][q]:>13.1f}x"
              f"{results[duck_name][q] / results['nunchi'][q]:>14.1f}x")
    print(f"{'load the CSV':<30}" + "".join(f"{loads[e]:>16.2f}" for e in engines))
    print(f"\nnunchi memory: {ours['bytes_per_event_engine_rss']:.1f} B/event resident for the engine "
          f"({ours['bytes_per_event_engine_heap']:.1f} B/event heap); "
          f"{ours['bytes_per_event_with_id_map_rss']:.1f} B/event with the CLI's customer-id map")
    for q in ("funnel4", "funnel12"):
        same = levels["nunchi"][q] == levels[chdb_name][q]
        print(f"{q} levels: nunchi {levels['nunchi'][q]}")
        print(f"{'':>{len(q) + 8}}chDB   {levels[chdb_name][q]} ({'identical' if same else 'DIFFERENT'})")
        print(f"{'':>{len(q) + 8}}DuckDB {levels[duck_name][q]} (ASOF-chain formulation)")


if __name__ == "__main__":
    main()
