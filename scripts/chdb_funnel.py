"""Differential-test peer: runs ClickHouse's own windowFunnel (in-process, via chDB) on
each case of a cases.json and prints, per case, the customers reaching at least each step.

Usage: chdb_funnel.py CASES_JSON
Each case: {"csv": path, "steps": [...], "window": secs, "strict_order": bool, "strict_increase": bool}
"""
import json
import sys

from chdb import session


def main():
    cases = json.load(open(sys.argv[1]))
    s = session.Session()
    out = []
    for i, case in enumerate(cases):
        table = f"events_{i}"
        s.query(f"CREATE TABLE {table} (customer_id String, event String, timestamp UInt32, channel String) "
                "ENGINE = Memory")
        s.query(f"INSERT INTO {table} SELECT * FROM file('{case['csv']}', CSVWithNames)")
        modes = "".join(f", '{m}'" for m in ("strict_order", "strict_increase") if case[m])
        conds = ", ".join(f"event = '{e}'" for e in case["steps"])
        # One thread keeps rows with equal times in file order, as the stable sort sees them.
        text = str(s.query(
            f"SELECT level, count() FROM (SELECT customer_id, windowFunnel({case['window']}{modes})"
            f"(timestamp, {conds}) AS level FROM {table} GROUP BY customer_id) GROUP BY level "
            f"SETTINGS max_threads = 1", "CSV")).strip()
        levels = [tuple(map(int, line.split(","))) for line in text.splitlines() if line]
        n = len(case["steps"])
        out.append([sum(c for level, c in levels if level >= k) for k in range(1, n + 1)])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
