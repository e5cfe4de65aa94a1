"""Weekly NPS by channel over the same answers in nunchi, DuckDB and chDB: each one's
median of N runs after loading, the ratios, and a check that every (week, channel) NPS
agrees.

Usage: scores_bench.py NUNCHI_BIN ANSWERS_CSV [RUNS] [ANSWERS]
"""
import json
import subprocess
import sys

import duckdb
from chdb import session

from analytics_bench import median_of

# Weeks start on Monday 00:00 in Korea (UTC+9); 1970-01-01 was a Thursday.
SHIFT, WEEK = 9 * 3600 + 3 * 86400, 604800


def cells(rows):
    return {(int(w), c): round(float(nps), 6) for w, c, nps in rows}


def main():
    binary, path = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    answers = sys.argv[4] if len(sys.argv) > 4 else "1000000"
    ours = json.loads(subprocess.run([binary, "analyze", "scores-bench", "--out", path, "--answers", answers,
                                      "--runs", str(runs)], check=True, capture_output=True, text=True).stdout)
    nunchi_cells = {(w, c): round(v, 6) for w, c, v, _ in ours["cells"]}

    con = duckdb.connect()
    con.execute(f"CREATE TABLE r AS SELECT * FROM read_csv('{path}', header=true, "
                "columns={'ts': 'UINTEGER', 'channel': 'VARCHAR', 'rating': 'UTINYINT'})")
    duck_sql = (f"SELECT (ts + {SHIFT}) // {WEEK} AS week, channel, "
                "100.0 * (count(*) FILTER (WHERE rating >= 9) - count(*) FILTER (WHERE rating <= 6)) / count(*) "
                "FROM r GROUP BY ALL")
    duck_secs, duck = median_of(runs, lambda: con.execute(duck_sql).fetchall())

    s = session.Session()
    s.query("CREATE TABLE r (ts UInt32, channel LowCardinality(String), rating UInt8) ENGINE = Memory")
    s.query(f"INSERT INTO r SELECT * FROM file('{path}', CSVWithNames, 'ts UInt32, channel String, rating UInt8')")
    ch_sql = (f"SELECT intDiv(ts + {SHIFT}, {WEEK}) AS week, channel, "
              "100 * (countIf(rating >= 9) - countIf(rating <= 6)) / count() FROM r GROUP BY week, channel")
    ch_secs, ch = median_of(runs, lambda: [line.split(",") for line in
                                           str(s.query(ch_sql, "CSV")).strip().splitlines()])
    ch = [(w, c.strip('"'), v) for w, c, v in ch]

    print(f"\n{ours['answers']:,} NPS answers over 90 days, 8 channels; weekly NPS by channel; median of {runs} runs (seconds)")
    print(f"{'':24}{'nunchi':>10}{'DuckDB ' + duckdb.__version__:>16}{'chDB':>10}{'DuckDB/nunchi':>15}{'chDB/nunchi':>13}")
    print(f"{'weekly NPS by channel':24}{ours['secs']:>10.4f}{duck_secs:>16.4f}{ch_secs:>10.4f}"
          f"{duck_secs / ours['secs']:>14.1f}x{ch_secs / ours['secs']:>12.1f}x")
    same = nunchi_cells == cells(duck) == cells(ch)
    print(f"cells: {len(nunchi_cells)}; identical across the three: {same}")
    if not same:
        sys.exit("the engines disagree")


if __name__ == "__main__":
    main()
