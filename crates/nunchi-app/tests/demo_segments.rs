//! The demo brand's segments, personas and campaigns: saved with the demo, filled by the first evaluation from
//! the demo's own data — VIPs exactly the customers tagged vip, prospects exactly those
//! without a purchase (pending and cancelled orders are none) — with every entry recorded.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_segments_fill_from_the_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = nunchi_store::connect(&format!("sqlite:{}", dir.path().join("d.db").display()))
        .await
        .unwrap();
    nunchi_app::demo::load(&store, 300, 7, &nunchi_app::demo::Quiet)
        .await
        .unwrap();
    let app = nunchi_app::App::offline(
        store.clone(),
        nunchi_app::AppConfig::for_tests(dir.path().to_path_buf()),
    );
    let segments = store.segments().await.unwrap();
    assert_eq!(segments.len(), 5);
    let (mut vip, mut buyers, mut everyone, mut teachers) = (0, 0, 0, 0);
    for c in store.customers_page(0, 1_000).await.unwrap() {
        everyone += 1;
        vip += usize::from(c.tags.iter().any(|t| t == "vip"));
        teachers += usize::from(c.tags.iter().any(|t| t == "교사"));
        // Pending and cancelled orders are not purchases.
        let orders = store.orders_of(c.row.id).await.unwrap();
        buyers += usize::from(
            orders
                .iter()
                .any(|o| !matches!(o.row.status.as_str(), "pending" | "cancelled")),
        );
    }
    for s in &segments {
        let done = nunchi_app::segments::evaluate(&app, s.id).await.unwrap();
        assert_eq!(done.entered, done.members, "{}: all new", s.name);
        let history = store.segment_changes(s.id, 1_000).await.unwrap();
        assert_eq!(history.len(), done.members, "{}", s.name);
        match s.name.as_str() {
            "VIP" => assert_eq!(done.members, vip),
            "교사 · Teachers" => assert_eq!(done.members, teachers),
            "잠재 고객 · Prospects" => assert_eq!(done.members, everyone - buyers),
            _ => assert!(done.members < buyers, "{}: {done:?}", s.name),
        }
    }
    assert!(
        vip > 0 && buyers > 0 && buyers < everyone && teachers > 0,
        "{vip} {buyers} {everyone} {teachers}"
    );
    // Loading again adds nothing.
    assert_eq!(nunchi_app::demo_segments::load(&store).await.unwrap(), 0);
    // Three personas, each linked to its segment; loading again adds none.
    let personas = store.personas().await.unwrap();
    assert_eq!(personas.len(), 3);
    for p in &personas {
        let linked = p.segment_id.expect("linked to a demo segment");
        assert!(segments.iter().any(|s| s.id == linked), "{}", p.name_en);
        assert!(!p.quote_ko.is_empty() && !p.quote_en.is_empty());
    }
    assert_eq!(nunchi_app::demo_personas::load(&store).await.unwrap(), 0);
    // Four draft campaigns that pass the checks a person's would (the ads carry the
    // Korean labelling); loading again adds none.
    let campaigns = store.campaigns().await.unwrap();
    assert_eq!(campaigns.len(), 4);
    for c in campaigns {
        let view = nunchi_app::campaigns::view_of(c.clone(), None).unwrap();
        nunchi_app::campaign_spec::check(
            &c.message_kind,
            view.trigger,
            c.segment_id,
            &c.channels,
            view.templates,
            &Default::default(),
            nunchi_app::contact_policy::DEFAULT_BRAND_NAME,
            store.clock().now_ms(),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", c.name));
    }
    assert_eq!(nunchi_app::demo_campaigns::load(&store).await.unwrap(), 0);
}
