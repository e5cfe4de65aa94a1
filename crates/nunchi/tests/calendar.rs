//! `nunchi calendar`: Korea's public holidays against the `holidays` package and lunar
//! dates against `korean-lunar-calendar` (KASI's tables), both from PyPI and run in the
//! same test — every year 1990–2100, every day 1900–2050 — and bad dates refused.

mod support;

use support::{nunchi, stdout};

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn oracles_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import holidays, korean_lunar_calendar"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("NUNCHI_TEST_REQUIRE_PYTHON_PEERS").as_deref() == Ok("1") {
        panic!(
            "holidays or korean_lunar_calendar is not importable and NUNCHI_TEST_REQUIRE_PYTHON_PEERS=1"
        );
    }
    if !ok {
        eprintln!("pip install holidays korean-lunar-calendar to run this test");
    }
    ok
}

fn oracle(args: &[&str]) -> String {
    stdout(
        Command::new("python3")
            .arg(support::script("calendar_oracle.py"))
            .args(args)
            .output()
            .expect("python3 runs"),
    )
}

#[test]
fn holidays_match_the_holidays_package() {
    if !oracles_available() {
        return;
    }
    let expected = oracle(&["holidays", "1990", "2100"]);
    let mut ours = String::new();
    for year in 1990..=2100 {
        let rows: Value = serde_json::from_str(&stdout(nunchi(&[
            "calendar",
            "holidays",
            "--country",
            "KR",
            "--year",
            &year.to_string(),
            "--json",
        ])))
        .expect("a JSON array");
        for h in rows.as_array().expect("an array") {
            ours.push_str(&format!(
                "{}\t{}\t{}\n",
                h["date"].as_str().unwrap(),
                h["name_ko"].as_str().unwrap(),
                h["name_en"].as_str().unwrap()
            ));
        }
    }
    let (e, o): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), ours.lines().collect());
    assert!(e.len() > 2_000, "the oracle printed {} holidays", e.len());
    for (theirs, mine) in e.iter().zip(&o) {
        assert_eq!(mine, theirs, "nunchi vs holidays");
    }
    assert_eq!(o.len(), e.len());
}

#[test]
fn every_day_matches_kasi_lunar_dates() {
    if !oracles_available() {
        return;
    }
    let expected = oracle(&["lunar", "1900", "2050"]);
    let solar: String = expected
        .lines()
        .map(|l| format!("{}\n", l.split('\t').next().unwrap()))
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nunchi"))
        .args(["calendar", "lunar", "--to-lunar", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nunchi runs");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(solar.as_bytes()));
    let ours = stdout(child.wait_with_output().unwrap());
    feeder.join().unwrap().unwrap();
    let mut days = 0;
    for (theirs, mine) in expected.lines().zip(ours.lines()) {
        let f: Vec<&str> = theirs.split('\t').collect();
        let want = format!("{}{}", f[1], if f[2] == "1" { " leap" } else { "" });
        assert_eq!(mine, want, "the lunar date of {}", f[0]);
        days += 1;
    }
    assert_eq!(days, 55_152, "1900–2050 has 55,152 days");
    assert_eq!(ours.lines().count(), days);
    // Spot checks both ways through the command's one-date form.
    let back = |lunar: &str, leap: bool| {
        let mut args = vec!["calendar", "lunar", "--to-solar", lunar];
        if leap {
            args.push("--leap");
        }
        stdout(nunchi(&args)).trim().to_string()
    };
    for line in expected.lines().step_by(997) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(back(f[1], f[2] == "1"), f[0], "{line}");
    }
}

#[test]
fn impossible_dates_are_refused_with_the_reason() {
    let err = |args: &[&str]| {
        let out = nunchi(args);
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(
        err(&["calendar", "lunar", "--to-solar", "2024-02-01", "--leap"])
            .contains("no leap month 2")
    );
    // Lunar 2023-11 had 29 days.
    let short = err(&["calendar", "lunar", "--to-solar", "2023-11-30"]);
    assert!(short.contains("has 29 days"), "{short}");
    assert!(err(&["calendar", "lunar", "--to-lunar", "2026-02-30"]).contains("not a date"));
    assert!(err(&["calendar", "holidays", "--year", "1800"]).contains("1990"));
    assert!(err(&["calendar", "holidays", "--country", "JP", "--year", "2026"]).contains("KR"));
}
