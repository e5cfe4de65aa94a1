//! The demo brand's points: a program with three tiers whose ledger, replayed from the
//! demo orders, holds earnings, redemptions, refund reversals and expiries, keeps its lots
//! equal to a full replay, and gives customers tiers on points earned.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_a_program_with_a_year_of_points_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = nunchi_store::connect(&format!("sqlite:{}", dir.path().join("d.db").display()))
        .await
        .unwrap();
    let report = nunchi_app::demo::load(&store, 400, 7, &nunchi_app::demo::Quiet)
        .await
        .unwrap();
    assert!(report.points_entries > 400, "{report:?}");
    let program = store.loyalty_program().await.unwrap();
    assert!(program.enabled);
    let keys: Vec<&str> = program.tiers.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["sprout", "tree", "forest"]);
    let check = store.verify_loyalty().await.unwrap();
    assert!(check.mismatched.is_empty(), "{check:?}");
    let summary = store.loyalty_summary(store.clock().now_ms()).await.unwrap();
    let t = summary.totals;
    assert!(
        t.earned > 0 && t.spent > 0 && t.reversed > 0 && t.expired > 0,
        "{t:?}"
    );
    let tiered: i64 = summary
        .tiers
        .iter()
        .filter(|(k, _)| k.as_deref() != Some("sprout") && k.is_some())
        .map(|(_, n)| n)
        .sum();
    assert!(tiered > 0, "someone is above the first tier: {summary:?}");
    // Loading again changes nothing in the ledger.
    let before = check.entries;
    nunchi_app::demo_loyalty::load(&store, store.clock().now_ms())
        .await
        .unwrap();
    assert_eq!(store.verify_loyalty().await.unwrap().entries, before);
}
