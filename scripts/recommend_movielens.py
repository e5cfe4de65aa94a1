"""RecBole's evaluation protocol for `nunchi recommend` on MovieLens ml-100k, with the
popularity baseline in the same run.

ml-100k.inter (RecBole's atomic file) → ratings ≥ 3 as implicit feedback → 10-core filter
(users and items, repeated until stable) → per user, a random 8:1:1 split (RecBole's
`_calcu_split_ids`) → fit on train; rank every item the user has in neither train nor
valid (full ranking); Recall@10, HR@10 and NDCG@10 over users with test items.

Usage: recommend_movielens.py ml-100k.inter NUNCHI_BINARY SEED [SEED …] [-- ARGS…]
(ARGS go to `nunchi recommend`, e.g. `-- --model ease`)
Prints one JSON line per seed and a summary line.
"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

K = 10


def load(path):
    rows = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        u, i, r = (header.index(n) for n in ("user_id:token", "item_id:token", "rating:float"))
        for line in f:
            p = line.rstrip("\n").split("\t")
            if float(p[r]) >= 3:
                rows.append((p[u], p[i]))
    while True:  # k-core until nothing changes
        users, items = Counter(u for u, _ in rows), Counter(i for _, i in rows)
        kept = [(u, i) for u, i in rows if users[u] >= 10 and items[i] >= 10]
        if len(kept) == len(rows):
            return rows
        rows = kept


def split_ids(tot, ratios=(0.8, 0.1, 0.1)):
    cnt = [int(r * tot) for r in ratios]
    cnt[0] = tot - sum(cnt[1:])
    for i in range(1, len(ratios)):
        if cnt[0] <= 1:
            break
        if 0 < ratios[-i] * tot < 1:
            cnt[-i] += 1
            cnt[0] -= 1
    return cnt


def split(rows, seed):
    rng = random.Random(seed)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    by_user = defaultdict(list)
    for u, i in shuffled:
        by_user[u].append(i)
    train, valid, test = [], defaultdict(set), defaultdict(set)
    for u, items in by_user.items():
        a, b, _ = split_ids(len(items))
        train += [(u, i) for i in items[:a]]
        valid[u].update(items[a:a + b])
        test[u].update(items[a + b:])
    return train, valid, test


def metrics(ranked, test):
    recall = hr = ndcg = 0.0
    users = [u for u in test if test[u]]
    for u in users:
        top = ranked.get(u, [])[:K]
        hits = [rank for rank, i in enumerate(top) if i in test[u]]
        recall += len(hits) / len(test[u])
        hr += 1.0 if hits else 0.0
        dcg = sum(1 / math.log2(r + 2) for r in hits)
        idcg = sum(1 / math.log2(r + 2) for r in range(min(len(test[u]), K)))
        ndcg += dcg / idcg
    n = len(users)
    return {"recall@10": recall / n, "hr@10": hr / n, "ndcg@10": ndcg / n, "users": n}


def run(rows, binary, seed, extra=()):
    train, valid, test = split(rows, seed)
    seen = defaultdict(set)
    for u, i in train:
        seen[u].add(i)
    # Popularity: most train interactions first, history masked.
    popular = [i for i, _ in sorted(Counter(i for _, i in train).items(), key=lambda c: (-c[1], c[0]))]
    pop = {u: [i for i in popular if i not in seen[u] and i not in valid[u]][:K] for u in test}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "train.csv")
        with open(path, "w") as f:
            f.write("customer_id,item_id\n")
            f.writelines(f"{u},{i}\n" for u, i in train)
        started = time.perf_counter()
        # Deep enough that removing the user's validation items still leaves 10.
        deep = str(K + max(len(v) for v in valid.values()))
        out = subprocess.run([binary, "recommend", "--interactions", path, "--top", deep,
                              "--exclude-seen", "--json", *extra], check=True, capture_output=True,
                             text=True).stdout
        seconds = time.perf_counter() - started
    ranked = {}
    for line in out.splitlines():
        o = json.loads(line)
        ranked[o["customer_id"]] = [i for i in o["items"] if i not in valid[o["customer_id"]]]
    ours, base = metrics(ranked, test), metrics(pop, test)
    return {"seed": seed, "interactions": len(rows), "nunchi": ours, "popularity": base,
            "lift": ours["ndcg@10"] / base["ndcg@10"], "seconds": seconds}


def main():
    rows = load(sys.argv[1])
    args = sys.argv[3:]
    seeds, extra = (args[:args.index("--")], args[args.index("--") + 1:]) if "--" in args else (args, [])
    results = [run(rows, sys.argv[2], int(s), extra) for s in seeds]
    for r in results:
        print(json.dumps(r))
    mean = lambda who, m: sum(r[who][m] for r in results) / len(results)
    print(json.dumps({"mean": {who: {m: round(mean(who, m), 4) for m in ("recall@10", "hr@10", "ndcg@10")}
                               for who in ("nunchi", "popularity")},
                      "lift": round(sum(r["lift"] for r in results) / len(results), 3)}))


if __name__ == "__main__":
    main()
