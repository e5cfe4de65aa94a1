"""The `lifetimes` package (PyPI) as the reference for `nunchi clv`: writes a CDNOW data
set that ships inside it as nunchi's transactions CSV, and fits and predicts with
lifetimes on a transactions CSV, printing what nunchi must agree with as JSON.

Usage:
  lifetimes_clv.py export sample|master OUT.csv
  lifetimes_clv.py fit TRANSACTIONS.csv UNTIL(YYYY-MM-DD) MONTHS
"""
import contextlib
import csv
import json
import os
import sys

import numpy as np
import pandas as pd


def export(which, out):
    import lifetimes.datasets
    folder = os.path.dirname(lifetimes.datasets.__file__)
    # CDNOW_sample.txt: original id, sample id, date, CDs, dollars; CDNOW_master.txt: id,
    # date, CDs, dollars.
    name, id_col, date_col, amount_col = {
        "sample": ("CDNOW_sample.txt", 1, 2, 4),
        "master": ("CDNOW_master.txt", 0, 1, 3),
    }[which]
    with open(os.path.join(folder, name)) as src, open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "date", "amount"])
        for line in src:
            p = line.split()
            if len(p) < 4 or not p[date_col].isdigit():
                continue
            d = p[date_col]
            w.writerow([p[id_col], f"{d[:4]}-{d[4:6]}-{d[6:]}", p[amount_col]])


def fit(path, until, months):
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import ConvergenceError, summary_data_from_transaction_data
    tx = pd.read_csv(path, dtype={"customer_id": str, "date": str})
    # The calendar day as written, also for RFC 3339 times (nunchi's rule).
    tx["date"] = pd.to_datetime(tx["date"].str[:10], format="%Y-%m-%d")
    s = summary_data_from_transaction_data(
        tx, "customer_id", "date", monetary_value_col="amount", freq="D",
        freq_multiplier=7, observation_period_end=until)
    customers = {cid: [float(s[c].iloc[i]) for c in ("frequency", "recency", "T", "monetary_value")]
                 for i, cid in enumerate(s.index)}
    bg = BetaGeoFitter()
    try:
        # lifetimes prints the optimiser's report when it is unsure; keep stdout JSON.
        with contextlib.redirect_stdout(sys.stderr):
            bg.fit(s["frequency"], s["recency"], s["T"])
    except ConvergenceError:
        # Histories the model does not describe: the summaries still compare.
        print(json.dumps({"bgnbd": None, "gamma_gamma": None, "customers": customers}))
        return
    p = bg.params_
    log_params = np.log([p["r"], p["alpha"], p["a"], p["b"]])
    n = len(s)
    mean_nll = BetaGeoFitter._negative_log_likelihood(
        log_params, s["frequency"].values, s["recency"].values, s["T"].values,
        np.ones(n), 0.0)
    repeat = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
    gg = GammaGammaFitter()
    with contextlib.redirect_stdout(sys.stderr):
        gg.fit(repeat["frequency"], repeat["monetary_value"])
    weeks = months * 4.345
    expected = bg.conditional_expected_number_of_purchases_up_to_time(
        weeks, s["frequency"], s["recency"], s["T"])
    alive = bg.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
    clv = gg.customer_lifetime_value(
        bg, s["frequency"], s["recency"], s["T"], s["monetary_value"], time=months,
        discount_rate=0.01, freq="W")
    for i, cid in enumerate(s.index):
        customers[cid] += [float(np.asarray(alive)[i]), float(np.asarray(expected)[i]),
                           float(np.asarray(clv)[i])]
    print(json.dumps({
        "bgnbd": {"r": p["r"], "alpha": p["alpha"], "a": p["a"], "b": p["b"],
                  "log_likelihood": -float(mean_nll) * n},
        "gamma_gamma": {"p": gg.params_["p"], "q": gg.params_["q"], "gamma": gg.params_["v"]},
        "customers": customers,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "export":
        export(sys.argv[2], sys.argv[3])
    else:
        fit(sys.argv[2], sys.argv[3], int(sys.argv[4]))
