//! `nunchi recommend`: the command-line contract (one JSON object per customer, seen items
//! excluded on request, a popularity fallback, weights and timestamps read, bad rows
//! reported by line), item-to-item neighbours, and quality on MovieLens ml-100k under
//! RecBole's protocol beside the popularity baseline (scripts/test.sh extracts ml-100k from
//! the recbole wheel and names it in NUNCHI_TEST_ML100K).

mod support;

use support::nunchi;

use std::collections::HashMap;
use std::process::Command;

use serde_json::Value;

fn lines(out: std::process::Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn items(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect()
}

/// Tea drinkers buy tea with cups, bakers flour with sugar; one customer only has tea.
const SHOP: &str = "\
item_id,weight,customer_id,timestamp
tea,1,ann,2026-11-01T10:00:00Z
cup,1,ann,2026-11-01T10:00:00Z
tea,,bo,1793527500
cup,2,bo,
tea,1,cy,
cup,1,cy,
flour,1,di,
sugar,1,di,
flour,1,ed,
sugar,1,ed,
tea,1,fay,
";

#[test]
fn each_customer_gets_top_items_as_one_json_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.csv");
    std::fs::write(&path, SHOP).unwrap();
    let path = path.to_str().unwrap();
    let got = lines(nunchi(&[
        "recommend",
        "--interactions",
        path,
        "--top",
        "2",
        "--exclude-seen",
        "--json",
    ]));
    let by: HashMap<String, Vec<String>> = got
        .iter()
        .map(|o| (o["customer_id"].as_str().unwrap().to_string(), items(o)))
        .collect();
    assert_eq!(by.len(), 6, "one line per customer: {got:?}");
    // Fay has tea: the cup goes with it; then the most popular item she lacks.
    assert_eq!(by["fay"][0], "cup");
    assert_eq!(by["fay"].len(), 2);
    // Bakers get tea things only from popularity, and never what they have.
    for (who, items) in &by {
        assert!(items.len() <= 2, "{who}: {items:?}");
    }
    assert!(!by["di"].contains(&"flour".to_string()) && !by["di"].contains(&"sugar".to_string()));
    assert_eq!(by["di"][0], "tea", "most popular first as the fallback");
    // Without --exclude-seen a customer's own items may rank.
    let all = lines(nunchi(&[
        "recommend",
        "--interactions",
        path,
        "--top",
        "3",
        "--json",
    ]));
    let fay = all.iter().find(|o| o["customer_id"] == "fay").unwrap();
    assert!(items(fay).contains(&"tea".to_string()));
    // Item to item.
    let similar = lines(nunchi(&[
        "recommend",
        "--interactions",
        path,
        "--similar",
        "--top",
        "1",
        "--json",
    ]));
    let of: HashMap<&str, Vec<String>> = similar
        .iter()
        .map(|o| (o["item_id"].as_str().unwrap(), items(o)))
        .collect();
    assert_eq!(of["tea"], vec!["cup"]);
    assert_eq!(of["flour"], vec!["sugar"]);
}

#[test]
fn bad_rows_are_reported_by_line_and_the_rest_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "customer_id,item_id,weight,timestamp\n\
         a,x,1,\n\
         a,y,-2,\n\
         b,,1,\n\
         b,x,1,yesterday\n\
         b,y,lots,\n\
         c,x,1,\n\
         c,y,1,\n",
    )
    .unwrap();
    let out = nunchi(&[
        "recommend",
        "--interactions",
        path.to_str().unwrap(),
        "--json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    for (line, word) in [(3, "-2"), (4, "empty"), (5, "yesterday"), (6, "lots")] {
        assert!(
            err.contains(&format!("line {line}:")) && err.contains(word),
            "{err}"
        );
    }
    let got = lines(out);
    assert_eq!(got.len(), 2, "a and c remain: {got:?}");
    let no_header = dir.path().join("h.csv");
    std::fs::write(&no_header, "user,thing\n1,2\n").unwrap();
    let out = nunchi(&["recommend", "--interactions", no_header.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("customer_id and item_id"));
}

#[test]
fn movielens_quality_beats_popularity_under_recboles_protocol() {
    let Ok(inter) = std::env::var("NUNCHI_TEST_ML100K") else {
        if std::env::var("NUNCHI_TEST_REQUIRE_PYTHON_PEERS").as_deref() == Ok("1") {
            panic!("NUNCHI_TEST_ML100K is not set (scripts/test.sh sets it)");
        }
        eprintln!("NUNCHI_TEST_ML100K not set: MovieLens quality not checked");
        return;
    };
    let ndcg = |extra: &[&str]| {
        let mut args = vec![
            support::script("recommend_movielens.py"),
            inter.clone(),
            env!("CARGO_BIN_EXE_nunchi").to_string(),
            "1".into(),
        ];
        if !extra.is_empty() {
            args.push("--".into());
            args.extend(extra.iter().map(|a| a.to_string()));
        }
        let out = Command::new("python3")
            .args(&args)
            .output()
            .expect("python3 runs");
        let run = lines(out).remove(0);
        assert!(run["nunchi"]["users"].as_u64().unwrap() > 900, "{run}");
        let (ours, baseline) = (
            run["nunchi"]["ndcg@10"].as_f64().unwrap(),
            run["popularity"]["ndcg@10"].as_f64().unwrap(),
        );
        assert!(ours >= 0.20, "NDCG@10 {ours} below 0.20: {run}");
        assert!(
            ours >= 1.6 * baseline,
            "NDCG@10 {ours} not 1.6× popularity {baseline}: {run}"
        );
        ours
    };
    let knn = ndcg(&[]);
    // EASE, which the product uses for catalogues of up to 2,000 items, ranks better still.
    let ease = ndcg(&["--model", "ease"]);
    assert!(ease > knn, "EASE {ease} not above item-kNN {knn}");
}
