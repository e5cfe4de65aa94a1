//! `nunchi analyze`: the funnel/paths/retention CLI on event files, its JSON contract,
//! bad rows reported by line, and funnel levels identical to ClickHouse's windowFunnel
//! (run in-process through chDB, which scripts/test.sh installs from PyPI).

mod support;

use support::nunchi;

use std::path::Path;
use std::process::Command;

fn json(out: std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

const SHOP: &str = "\
customer_id,event,timestamp,channel
a,purchase,2026-11-01T10:20:00Z,web
a,visit,2026-11-01T10:00:00Z,web
a,view_product,1793527500,web
b,visit,2026-11-01T09:00:00+09:00,app
b,view_product,2026-11-09T09:00:00+09:00,app
c,visit,2026-11-02T00:00:00Z,store
c,view_product,2026-11-02T00:01:00Z,store
c,add_to_cart,2026-11-02T00:02:00Z,store
c,purchase,2026-11-02T00:03:00Z,store
d,visit,not-a-time,web
e,visit,2026-11-02T00:00:00Z,carrier-pigeon
";

#[test]
fn funnel_json_counts_customers_reaching_at_least_each_step() {
    let dir = tempfile::tempdir().unwrap();
    let events = write(dir.path(), "shop.csv", SHOP);
    let out = nunchi(&[
        "analyze",
        "funnel",
        "--events",
        &events,
        "--steps",
        "visit,view_product,add_to_cart,purchase",
        "--window",
        "7d",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = json(out);
    // a: visit→view→(no cart)→purchase stops at 2; b's view is 8 days later; c converts.
    assert_eq!(
        report,
        serde_json::json!({"steps": [
            {"name": "visit", "customers": 3},
            {"name": "view_product", "customers": 2},
            {"name": "add_to_cart", "customers": 1},
            {"name": "purchase", "customers": 1},
        ]})
    );
    assert!(
        stderr.contains("line 11:") && stderr.contains("not-a-time"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 12:") && stderr.contains("carrier-pigeon"),
        "{stderr}"
    );

    let wider = json(nunchi(&[
        "analyze",
        "funnel",
        "--events",
        &events,
        "--steps",
        "visit,view_product",
        "--window",
        "9d",
        "--breakdown",
        "channel",
        "--json",
    ]));
    assert_eq!(wider["steps"][1]["customers"], 3);
    assert_eq!(wider["breakdown"]["app"], serde_json::json!([1, 1]));

    let table = nunchi(&[
        "analyze",
        "funnel",
        "--events",
        &events,
        "--steps",
        "visit,purchase",
    ]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("visit") && text.contains("66.7%"), "{text}");
}

#[test]
fn paths_and_retention_report_json() {
    let dir = tempfile::tempdir().unwrap();
    let events = write(dir.path(), "shop.csv", SHOP);
    let paths = json(nunchi(&["analyze", "paths", "--events", &events, "--json"]));
    let top = &paths["transitions"][0];
    assert_eq!(
        (
            top["from"].as_str(),
            top["to"].as_str(),
            top["count"].as_u64()
        ),
        (Some("visit"), Some("view_product"), Some(3))
    );
    let after = json(nunchi(&[
        "analyze",
        "paths",
        "--events",
        &events,
        "--after",
        "view_product",
        "--json",
    ]));
    let steps = after["steps"].as_array().unwrap();
    let total: u64 = steps.iter().map(|s| s["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 3);
    assert!(steps.iter().any(|s| s["name"].is_null() && s["count"] == 1));

    let retention = json(nunchi(&[
        "analyze",
        "retention",
        "--events",
        &events,
        "--period",
        "day",
        "--periods",
        "8",
        "--json",
    ]));
    let cohorts = retention["cohorts"].as_array().unwrap();
    let sizes: u64 = cohorts.iter().map(|c| c["size"].as_u64().unwrap()).sum();
    assert_eq!(sizes, 3);
    let b_cohort = cohorts
        .iter()
        .find(|c| c["start"] == "2026-11-01")
        .expect("b's cohort");
    assert_eq!(b_cohort["returned"][8], 1, "{b_cohort}");

    let missing = nunchi(&["analyze", "paths", "--events", &events, "--after", "nope"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope"));
    let no_header = write(dir.path(), "bad.csv", "who,what\n1,2\n");
    let out = nunchi(&["analyze", "funnel", "--events", &no_header, "--steps", "a"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("customer_id, event and timestamp"));
}

/// SplitMix64, so the random logs are the same on every run.
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

fn chdb_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import chdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("NUNCHI_TEST_REQUIRE_PYTHON_PEERS").as_deref() == Ok("1") {
        panic!("chdb is not importable and NUNCHI_TEST_REQUIRE_PYTHON_PEERS=1");
    }
    ok
}

#[test]
fn funnel_levels_are_identical_to_clickhouse_window_funnel() {
    if !chdb_available() {
        eprintln!("chdb not installed (pip install chdb): differential test not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(7);
    let names = ["home", "view", "cart", "pay", "help"];
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for case in 0..120 {
        let mut csv = String::from("customer_id,event,timestamp,channel\n");
        for _ in 0..(50 + rng.below(250)) {
            // Coarse times make ties and window edges common.
            let ts = 1_790_000_000 + rng.below(60) * 600;
            let name = names[rng.below(names.len() as u64) as usize];
            csv.push_str(&format!("u{},{name},{ts},web\n", rng.below(25)));
        }
        let path = write(dir.path(), &format!("case{case}.csv"), &csv);
        let steps: Vec<&str> = (0..1 + rng.below(5))
            .map(|_| names[rng.below(4) as usize])
            .collect();
        let window = rng.below(12) * 600;
        let (strict_order, strict_increase) = (rng.below(3) == 0, rng.below(3) == 0);
        let mut args = vec![
            "analyze".to_string(),
            "funnel".into(),
            "--events".into(),
            path.clone(),
            "--steps".into(),
            steps.join(","),
            "--window".into(),
            format!("{window}s"),
            "--json".into(),
        ];
        if strict_order {
            args.push("--strict-order".into());
        }
        if strict_increase {
            args.push("--strict-increase".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let report = json(nunchi(&args));
        let reached: Vec<u64> = report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["customers"].as_u64().unwrap())
            .collect();
        ours.push(reached);
        cases.push(
            serde_json::json!({"csv": path, "steps": steps, "window": window,
            "strict_order": strict_order, "strict_increase": strict_increase}),
        );
    }
    let cases_path = write(
        dir.path(),
        "cases.json",
        &serde_json::to_string(&cases).unwrap(),
    );
    let out = Command::new("python3")
        .args([&support::script("chdb_funnel.py"), &cases_path])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<Vec<u64>> = serde_json::from_slice(&out.stdout).expect("chdb output");
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "case {i}: {}", cases[i]);
    }
    assert_eq!(ours.len(), theirs.len());
    assert!(
        ours.iter().any(|r| r.len() >= 3 && r[2] > 0),
        "some funnels go deep"
    );
}
