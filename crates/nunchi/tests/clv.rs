//! `nunchi clv`: lifetime value fitted by nunchi itself and checked against the `lifetimes`
//! package (PyPI, which scripts/test.sh installs) run in the same test — the published
//! CDNOW fits, every customer's summary, probability alive, expected purchases and value,
//! random histories with same-day orders, time offsets and purchases after the calibration
//! end — and bad rows reported by line.

mod support;

use support::{nunchi, stdout};

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn lifetimes_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import lifetimes"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("NUNCHI_TEST_REQUIRE_PYTHON_PEERS").as_deref() == Ok("1") {
        panic!("lifetimes is not importable and NUNCHI_TEST_REQUIRE_PYTHON_PEERS=1");
    }
    if !ok {
        eprintln!("lifetimes not installed (pip install lifetimes==0.11.3): test not run");
    }
    ok
}

fn lifetimes(args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(support::script("lifetimes_clv.py"))
        .args(args)
        .output()
        .expect("python3 runs");
    stdout(out)
}

fn close(ours: f64, theirs: f64, rel: f64, what: &str) {
    assert!(
        (ours - theirs).abs() <= rel * theirs.abs().max(1e-9),
        "{what}: nunchi {ours} vs lifetimes {theirs}"
    );
}

/// nunchi's fit and per-customer lines against lifetimes' on one transactions file.
fn agree_with_lifetimes(csv: &Path, until: &str) -> (Value, Value) {
    let csv = csv.to_str().unwrap();
    let text = lifetimes(&["fit", csv, until, "12"]);
    let reference: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("lifetimes printed {e}: {}", &text[..text.len().min(300)]));
    let fit: Value = serde_json::from_str(&stdout(nunchi(&[
        "clv",
        "fit",
        "--transactions",
        csv,
        "--until",
        until,
        "--json",
    ])))
    .unwrap();
    let theirs = reference["customers"].as_object().unwrap();
    assert_eq!(fit["customers"].as_u64().unwrap(), theirs.len() as u64);
    // The likelihood nunchi reaches is at least lifetimes' (both maximise the same one),
    // where lifetimes converges at all.
    if let Some(ref_ll) = reference["bgnbd"]["log_likelihood"].as_f64() {
        let ll = fit["bgnbd"]["log_likelihood"].as_f64().unwrap();
        assert!(
            ll >= ref_ll - 1e-6,
            "log-likelihood {ll} < lifetimes' {ref_ll}"
        );
    }
    let lines = stdout(nunchi(&[
        "clv",
        "customers",
        "--transactions",
        csv,
        "--until",
        until,
        "--months",
        "12",
        "--json",
    ]));
    let mut seen = 0;
    for line in lines.lines() {
        let c: Value = serde_json::from_str(line).unwrap();
        let id = c["customer_id"].as_str().unwrap();
        let want = theirs[id].as_array().unwrap();
        let want: Vec<f64> = want.iter().map(|v| v.as_f64().unwrap()).collect();
        // The summary is exact arithmetic: it must be equal.
        for (field, i) in [
            ("frequency", 0),
            ("recency", 1),
            ("T", 2),
            ("monetary_value", 3),
        ] {
            close(
                c[field].as_f64().unwrap(),
                want[i],
                1e-12,
                &format!("{id} {field}"),
            );
        }
        seen += 1;
    }
    assert_eq!(seen, theirs.len(), "one line per customer");
    (fit, reference)
}

#[test]
fn cdnow_sample_reproduces_the_published_fits_and_lifetimes_predictions() {
    if !lifetimes_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("cdnow_sample.csv");
    lifetimes(&["export", "sample", csv.to_str().unwrap()]);
    let (fit, reference) = agree_with_lifetimes(&csv, "1997-09-30");
    // Fader, Hardie & Lee's published fits on this sample.
    let bg = &fit["bgnbd"];
    for (name, published, tol) in [
        ("r", 0.243, 5e-4),
        ("alpha", 4.414, 5e-4),
        ("a", 0.793, 5e-4),
        ("b", 2.426, 5e-4),
        ("log_likelihood", -9582.4, 0.05),
    ] {
        let got = bg[name].as_f64().unwrap();
        assert!(
            (got - published).abs() <= tol,
            "{name} = {got}, published {published}"
        );
    }
    let gg = &fit["gamma_gamma"];
    for (name, published) in [("p", 6.25), ("q", 3.74), ("gamma", 15.44)] {
        let got = gg[name].as_f64().unwrap();
        assert!(
            (got - published).abs() <= 5e-3,
            "{name} = {got}, published {published}"
        );
    }
    for (model, names) in [
        ("bgnbd", &["r", "alpha", "a", "b"][..]),
        ("gamma_gamma", &["p", "q", "gamma"]),
    ] {
        for name in names {
            close(
                fit[model][name].as_f64().unwrap(),
                reference[model][name].as_f64().unwrap(),
                1e-4,
                &format!("{model}.{name}"),
            );
        }
    }
    // Predictions per customer: probability alive, expected purchases, 12-month value.
    let lines = stdout(nunchi(&[
        "clv",
        "customers",
        "--transactions",
        csv.to_str().unwrap(),
        "--until",
        "1997-09-30",
        "--json",
    ]));
    let theirs = reference["customers"].as_object().unwrap();
    let mut cells: HashMap<String, u64> = HashMap::new();
    for line in lines.lines() {
        let c: Value = serde_json::from_str(line).unwrap();
        let id = c["customer_id"].as_str().unwrap();
        let want = theirs[id].as_array().unwrap();
        for (field, i) in [
            ("probability_alive", 4),
            ("expected_purchases", 5),
            ("clv", 6),
        ] {
            close(
                c[field].as_f64().unwrap(),
                want[i].as_f64().unwrap(),
                1e-3,
                &format!("{id} {field}"),
            );
        }
        *cells
            .entry(c["rfm"]["cell"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert!(
        cells.len() >= 5,
        "customers spread over the RFM grid: {cells:?}"
    );
}

#[test]
fn cdnow_master_summary_equals_lifetimes_for_every_customer() {
    if !lifetimes_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("cdnow_master.csv");
    lifetimes(&["export", "master", csv.to_str().unwrap()]);
    let (fit, reference) = agree_with_lifetimes(&csv, "1998-06-30");
    assert_eq!(fit["customers"], 23_570);
    close(
        fit["bgnbd"]["r"].as_f64().unwrap(),
        reference["bgnbd"]["r"].as_f64().unwrap(),
        1e-4,
        "r",
    );
}

/// SplitMix64, so the random histories are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

#[test]
fn random_histories_summarise_as_lifetimes_does() {
    if !lifetimes_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for case in 0..3u64 {
        let mut rng = Rng(case + 11);
        let mut csv = String::from("customer_id,date,amount\n");
        for c in 0..(150 + rng.below(200)) {
            let start = rng.below(300);
            let habit = 1 + rng.below(60);
            let mut day = start;
            // Many buy once; the rest a few times, like a shop's customers.
            let orders = if rng.below(2) == 0 {
                1
            } else {
                2 + rng.below(10)
            };
            for _ in 0..orders {
                // Some days in the calendar's January 2025 onward, written three ways; some
                // orders on the same day; some after the calibration end (day 330).
                let date = date_after_2025(day);
                let amount = format!("{}.{:02}", 5 + rng.below(200), rng.below(100));
                let written = match rng.below(3) {
                    0 => date.clone(),
                    1 => format!("{date}T23:30:00+09:00"),
                    _ => format!("{date}T00:05:00Z"),
                };
                csv.push_str(&format!("cust-{c},{written},{amount}\n"));
                if rng.below(5) > 0 {
                    day += 1 + rng.below(habit);
                }
            }
        }
        let path = dir.path().join(format!("case{case}.csv"));
        std::fs::write(&path, csv).unwrap();
        agree_with_lifetimes(&path, &date_after_2025(330));
    }
}

/// `YYYY-MM-DD` of day `n` after 2025-01-01, within 2025–2027 (none of them leap years).
fn date_after_2025(n: u64) -> String {
    let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut month, mut day) = (0usize, n);
    while day >= lengths[month % 12] {
        day -= lengths[month % 12];
        month += 1;
    }
    format!("{}-{:02}-{:02}", 2025 + month / 12, month % 12 + 1, day + 1)
}

#[test]
fn bad_rows_are_reported_by_line_and_good_rows_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(
        &path,
        "customer_id,date,amount\n\
         a,2025-01-01,10\n\
         a,2025-01-08,12.5\n\
         b,01/02/2025,3\n\
         c,2025-01-03,lots\n\
         ,2025-01-03,1\n\
         d,2025-01-05,4\n\
         d,2025-01-20T10:00:00+09:00,6\n",
    )
    .unwrap();
    let out = nunchi(&[
        "clv",
        "fit",
        "--transactions",
        path.to_str().unwrap(),
        "--json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("line 4:") && err.contains("01/02/2025"),
        "{err}"
    );
    assert!(err.contains("line 5:") && err.contains("lots"), "{err}");
    assert!(
        err.contains("line 6:") && err.contains("customer_id is empty"),
        "{err}"
    );
    let fit: Value = serde_json::from_str(&stdout(out)).unwrap();
    assert_eq!(fit["customers"], 2, "a and d load");
    for key in ["r", "alpha", "a", "b", "log_likelihood"] {
        assert!(
            fit["bgnbd"][key].as_f64().is_some_and(f64::is_finite),
            "{key}"
        );
    }
    let no_header = dir.path().join("h.csv");
    std::fs::write(&no_header, "who,when\n1,2\n").unwrap();
    let out = nunchi(&["clv", "fit", "--transactions", no_header.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("customer_id, date and amount"));
    let out = nunchi(&[
        "clv",
        "fit",
        "--transactions",
        path.to_str().unwrap(),
        "--until",
        "next week",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--until"));
}
