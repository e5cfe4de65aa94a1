//! The store conformance suite: every story runs unchanged against SQLite and, when the
//! test command has started one, PostgreSQL.

use nunchi_core::{
    consent::{Consent, ContactChannel, Purpose},
    customer::{AttributeType, CustomerName, ProfileFields, Tag},
    identity::{Identity, IdentityKind},
    import::{CUSTOMER_COLUMNS, CustomerRecord, Header, ORDER_COLUMNS, OrderLine, OrderStatus},
    life_event::LifeEventKind,
    search::normalise_query,
    time::Millis,
};
use nunchi_store::{StoreError, each_backend, model::*, testing};

fn customer(external_id: &str, name: &str, email: &str, phone: &str) -> CustomerRecord {
    let h = Header::parse(
        &["external_id", "name", "email", "phone", "tags"],
        CUSTOMER_COLUMNS,
        &[],
        true,
    )
    .unwrap();
    h.customer(&[external_id, name, email, phone, "vip"])
        .unwrap()
}

fn line(
    order: &str,
    customer: &str,
    product: &str,
    price: &str,
    qty: &str,
    currency: &str,
) -> OrderLine {
    let h = Header::parse(ORDER_COLUMNS, ORDER_COLUMNS, &[], false).unwrap();
    h.order_line(&[
        order,
        customer,
        "2026-05-01T10:00:00+09:00",
        "paid",
        currency,
        "app",
        product,
        "skincare",
        price,
        qty,
        "",
    ])
    .unwrap()
}

each_backend!(customers_are_found_by_every_identity_and_by_search, |s| {
    let id = s
        .create_customer(
            &customer("C-1", "김민준", "minjun@example.com", "010-1234-5678"),
            &[Identity::parse("anonymous_id", "anon-1").unwrap()],
            "test",
        )
        .await
        .unwrap();
    let other = s
        .create_customer(
            &customer("C-2", "Grace Park", "grace@example.com", "010-9999-0000"),
            &[],
            "test",
        )
        .await
        .unwrap();
    for (kind, value) in [
        ("email", "MINJUN@example.com"),
        ("phone", "+82 10 1234 5678"),
        ("external_id", "C-1"),
        ("anonymous_id", "anon-1"),
    ] {
        assert_eq!(
            s.find_by_identity(&Identity::parse(kind, value).unwrap())
                .await
                .unwrap(),
            Some(id),
            "{kind}"
        );
    }
    assert_eq!(
        s.find_by_identity(&Identity::parse("email", "nobody@example.com").unwrap())
            .await
            .unwrap(),
        None
    );
    // The same e-mail on a second customer is a conflict, not a silent move.
    let dup = s
        .create_customer(&customer("C-3", "x", "minjun@example.com", ""), &[], "test")
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(
        s.find_by_identity(&Identity::parse("external_id", "C-3").unwrap())
            .await
            .unwrap(),
        None,
        "the failed create left nothing behind"
    );

    for (q, want) in [
        ("김민", id),
        ("민준", id),
        ("010-1234", id),
        ("5678", id),
        ("grace", other),
        ("park", other),
        ("c-2", other),
        ("GRACE@EX", other),
    ] {
        let hits = s.search_customers(&normalise_query(q), 10).await.unwrap();
        assert_eq!(
            hits.first().map(|h| h.id),
            Some(want),
            "search {q:?} gave {hits:?}"
        );
        assert_eq!(hits.len(), 1, "search {q:?} gave {hits:?}");
    }
    let c = s.customer(id).await.unwrap();
    assert_eq!(c.row.name.as_deref(), Some("김민준"));
    assert_eq!(c.identity(IdentityKind::Phone), Some("+821012345678"));
    assert_eq!(c.tags, vec!["vip".to_string()]);

    s.update_profile(
        id,
        &ProfileFields {
            name: Some(CustomerName::parse("김민재").unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        s.search_customers("김민준", 10).await.unwrap().is_empty(),
        "old name no longer found"
    );
    assert_eq!(s.search_customers("김민재", 10).await.unwrap()[0].id, id);
});

each_backend!(lists_filter_and_page, |s| {
    let mut ids = vec![];
    for i in 0..25 {
        let mut r = customer(
            &format!("L-{i}"),
            &format!("Customer {i}"),
            &format!("c{i}@example.com"),
            "",
        );
        if i % 5 == 0 {
            r.tags = vec![Tag::parse("gold").unwrap()];
        }
        ids.push(s.create_customer(&r, &[], "test").await.unwrap());
    }
    let first = s
        .list_customers(&CustomerFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|c| c.id).collect::<Vec<_>>(),
        ids.iter().rev().take(10).copied().collect::<Vec<_>>()
    );
    let second = s
        .list_customers(
            &CustomerFilter::default(),
            Some(first.last().unwrap().id),
            10,
        )
        .await
        .unwrap();
    assert_eq!(second[0].id, ids[14]);
    let gold = s
        .list_customers(
            &CustomerFilter {
                tag: Some("gold".into()),
                ..Default::default()
            },
            None,
            50,
        )
        .await
        .unwrap();
    assert_eq!(gold.len(), 5);
    let q = s
        .list_customers(
            &CustomerFilter {
                query: Some("c1".into()),
                ..Default::default()
            },
            None,
            50,
        )
        .await
        .unwrap();
    assert_eq!(q.len(), 11, "c1, c10..c19");
    s.record_consent(
        ids[3],
        &Consent {
            channel: ContactChannel::Sms,
            purpose: Purpose::Marketing,
            granted: true,
            at: Millis(1),
            source: "test".into(),
        },
    )
    .await
    .unwrap();
    let sms = s
        .list_customers(
            &CustomerFilter {
                marketing_channel: Some("sms".into()),
                ..Default::default()
            },
            None,
            50,
        )
        .await
        .unwrap();
    assert_eq!(sms.iter().map(|c| c.id).collect::<Vec<_>>(), vec![ids[3]]);
});

each_backend!(reimport_upserts_and_bad_rows_do_not_block_good_ones, |s| {
    let first = s
        .upsert_customers(
            &[
                customer("U-1", "이서연", "seoyeon@example.com", ""),
                customer("U-2", "박지훈", "jihoon@example.com", ""),
            ],
            "csv",
        )
        .await
        .unwrap();
    assert!(matches!(first[0], Ok(Upserted::Created(_))));
    let id1 = match first[0] {
        Ok(Upserted::Created(id)) => id,
        _ => unreachable!(),
    };
    let mut renamed = customer("U-1", "이서연B", "", "010-2222-3333");
    renamed.email = None;
    let clash = customer("U-3", "x", "jihoon@example.com", "");
    let again = s
        .upsert_customers(
            &[
                renamed,
                clash,
                customer("U-4", "최유진", "yujin@example.com", ""),
            ],
            "csv",
        )
        .await
        .unwrap();
    assert_eq!(again[0].as_ref().unwrap(), &Upserted::Updated(id1));
    // U-3 is matched by nothing but its e-mail belongs to U-2: an upsert by e-mail updates U-2.
    assert!(matches!(again[1], Ok(Upserted::Updated(_))));
    assert!(matches!(again[2], Ok(Upserted::Created(_))));
    let c = s.customer(id1).await.unwrap();
    assert_eq!(c.row.name.as_deref(), Some("이서연B"));
    assert_eq!(
        c.identity(IdentityKind::Email),
        Some("seoyeon@example.com"),
        "kept"
    );
    assert_eq!(
        c.identity(IdentityKind::Phone),
        Some("+821022223333"),
        "added"
    );

    // A row whose external id and e-mail point at two different customers is rejected alone.
    let conflicting = customer("U-4", "y", "seoyeon@example.com", "");
    let res = s
        .upsert_customers(
            &[
                conflicting,
                customer("U-5", "정하늘", "haneul@example.com", ""),
            ],
            "csv",
        )
        .await
        .unwrap();
    assert!(
        matches!(res[0], Err(StoreError::Conflict(_))),
        "{:?}",
        res[0]
    );
    assert!(matches!(res[1], Ok(Upserted::Created(_))));

    // Attributes keep the type they were declared with.
    s.set_attribute(id1, "skin_type", AttributeType::Text, "dry")
        .await
        .unwrap();
    s.set_attribute(id1, "visits", AttributeType::Number, "3")
        .await
        .unwrap();
    assert!(matches!(
        s.set_attribute(id1, "visits", AttributeType::Text, "many")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.attribute_type("visits").await.unwrap(),
        Some(AttributeType::Number)
    );
    let attrs = s.customer(id1).await.unwrap().attributes;
    assert_eq!(
        attrs
            .iter()
            .map(|a| (a.key.as_str(), a.value.as_str()))
            .collect::<Vec<_>>(),
        vec![("skin_type", "dry"), ("visits", "3")]
    );
});

each_backend!(merging_moves_everything_and_leaves_a_tombstone, |s| {
    let a = s
        .create_customer(
            &customer("M-1", "김하나", "hana@example.com", ""),
            &[],
            "test",
        )
        .await
        .unwrap();
    let b = s
        .create_customer(
            &customer("M-2", "", "hana.kim@work.com", "010-5555-6666"),
            &[Identity::parse("device_id", "dev-9").unwrap()],
            "test",
        )
        .await
        .ok();
    let b = match b {
        Some(b) => b,
        None => s
            .create_customer(
                &customer("M-2", "Hana", "hana.kim@work.com", "010-5555-6666"),
                &[],
                "test",
            )
            .await
            .unwrap(),
    };
    s.add_note(b, None, "agent", "called about a refund")
        .await
        .unwrap();
    s.upsert_order_lines(&[line("O-M", "M-2", "크림", "32000", "1", "KRW")])
        .await
        .unwrap()
        .into_iter()
        .for_each(|r| {
            r.unwrap();
        });
    s.set_tags(b, &[Tag::parse("app-user").unwrap()])
        .await
        .unwrap();
    s.set_life_event(b, LifeEventKind::Birthday, "", "1990-05-08", true)
        .await
        .unwrap();
    s.merge_customers(b, a, "tester").await.unwrap();

    let merged = s.customer(a).await.unwrap();
    for kind in [
        IdentityKind::Email,
        IdentityKind::Phone,
        IdentityKind::ExternalId,
    ] {
        assert!(merged.identity(kind).is_some(), "{kind} moved");
    }
    assert_eq!(
        merged
            .identities
            .iter()
            .filter(|i| i.kind == IdentityKind::Email)
            .count(),
        2
    );
    assert_eq!(merged.tags, vec!["app-user".to_string(), "vip".to_string()]);
    assert_eq!(merged.life_events.len(), 1);
    assert_eq!(s.notes(a).await.unwrap().len(), 1);
    assert_eq!(s.orders_of(a).await.unwrap().len(), 1);
    assert_eq!(
        s.find_by_identity(&Identity::parse("phone", "01055556666").unwrap())
            .await
            .unwrap(),
        Some(a)
    );
    let tomb = s.customer(b).await.unwrap();
    assert_eq!(tomb.row.merged_into, Some(a));
    assert!(tomb.identities.is_empty());
    assert!(
        s.search_customers("010555", 10)
            .await
            .unwrap()
            .iter()
            .all(|h| h.id == a)
    );
    assert!(
        matches!(
            s.merge_customers(b, a, "tester").await,
            Err(StoreError::Conflict(_))
        ),
        "a tombstone cannot be merged again"
    );
    assert!(matches!(
        s.merge_customers(a, a, "tester").await,
        Err(StoreError::Conflict(_))
    ));
    let timeline = s.timeline(a, None, 100).await.unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e.kind == "identity" && e.title == "merged_from"),
        "{timeline:?}"
    );
});

each_backend!(erasure_removes_pii_and_keeps_aggregates, |s| {
    let id = s
        .create_customer(
            &customer("E-1", "오지은", "jieun@example.com", "010-7777-8888"),
            &[],
            "test",
        )
        .await
        .unwrap();
    s.add_note(id, None, "agent", "lives at 12 Example-ro")
        .await
        .unwrap();
    s.upsert_order_lines(&[line("O-E", "E-1", "세럼", "45000", "2", "KRW")])
        .await
        .unwrap();
    s.erase_customer(id, "dpo").await.unwrap();
    let c = s.customer(id).await.unwrap();
    assert_eq!(c.row.name, None);
    assert!(c.row.erased_at.is_some());
    assert!(c.identities.is_empty() && c.tags.is_empty() && c.consents.is_empty());
    assert!(s.notes(id).await.unwrap().is_empty());
    assert!(s.search_customers("오지은", 10).await.unwrap().is_empty());
    assert!(s.search_customers("jieun", 10).await.unwrap().is_empty());
    assert_eq!(
        s.find_by_identity(&Identity::parse("email", "jieun@example.com").unwrap())
            .await
            .unwrap(),
        None
    );
    let orders = s.orders_of(id).await.unwrap();
    assert_eq!(
        orders[0].row.total_minor, 90_000,
        "revenue aggregates survive"
    );
    assert!(matches!(
        s.add_note(id, None, "agent", "x").await,
        Err(StoreError::Conflict(_))
    ));
    let export = s.export_customer(id).await.unwrap();
    assert!(export.timeline.iter().all(|e| !e.detail.contains("jieun")));
});

each_backend!(timeline_pages_cover_everything_once, |s| {
    let id = s
        .create_customer(
            &customer("T-1", "한결", "gyeol@example.com", ""),
            &[],
            "test",
        )
        .await
        .unwrap();
    s.add_note(id, None, "agent", "note 0").await.unwrap();
    let more: Vec<(i64, String, String)> = (1..7)
        .map(|i| (id, "agent".to_string(), format!("note {i}")))
        .collect();
    s.add_notes(&more).await.unwrap();
    s.upsert_order_lines(&[
        line("O-T1", "T-1", "토너", "18000", "1", "KRW"),
        line("O-T2", "T-1", "Toner", "12.50", "2", "USD"),
    ])
    .await
    .unwrap();
    s.record_consent(
        id,
        &Consent {
            channel: ContactChannel::Email,
            purpose: Purpose::Marketing,
            granted: true,
            at: Millis(5),
            source: "form".into(),
        },
    )
    .await
    .unwrap();
    let mut seen = vec![];
    let mut cursor = None;
    loop {
        let page = s.timeline(id, cursor.as_ref(), 3).await.unwrap();
        if page.is_empty() {
            break;
        }
        let last = page.last().unwrap();
        cursor = Some(TimelineCursor {
            at: last.at,
            kind: last.kind.clone(),
            ref_id: last.ref_id,
        });
        seen.extend(page);
    }
    assert_eq!(
        seen.len(),
        12,
        "7 notes, 2 orders, 2 identities, 1 consent: {seen:#?}"
    );
    let mut keys: Vec<_> = seen.iter().map(|e| (e.kind.clone(), e.ref_id)).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 12, "no entry twice");
    assert!(seen.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
    let usd = seen
        .iter()
        .find(|e| e.currency.as_deref() == Some("USD"))
        .unwrap();
    assert_eq!(usd.amount_minor, Some(2500));
});

each_backend!(orders_total_refund_and_reject_bad_lines, |s| {
    s.create_customer(
        &customer("O-C", "주문고객", "buyer@example.com", ""),
        &[],
        "test",
    )
    .await
    .unwrap();
    let res = s
        .upsert_order_lines(&[
            line("O-1", "O-C", "크림", "32000", "2", "KRW"),
            line("O-1", "O-C", "세럼", "45000", "1", "KRW"),
            line("O-2", "NOBODY", "크림", "32000", "1", "KRW"),
            line("O-1", "O-C", "립밤", "5.00", "1", "USD"),
        ])
        .await
        .unwrap();
    assert!(res[0].is_ok() && res[1].is_ok());
    assert!(matches!(res[2], Err(StoreError::NotFound(_))));
    assert!(
        matches!(res[3], Err(StoreError::Conflict(_))),
        "currency change: {:?}",
        res[3]
    );
    // Re-importing a line updates it instead of adding it again.
    s.upsert_order_lines(&[line("O-1", "O-C", "크림", "30000", "2", "KRW")])
        .await
        .unwrap();
    let page = s.orders_page(0, 10).await.unwrap();
    assert_eq!(page.len(), 1);
    let order = &page[0];
    assert_eq!(order.items.len(), 2);
    assert_eq!(order.row.total_minor, 105_000);
    // The customer models read purchased lines page by page, net of refunds.
    let lines = s.purchase_lines_page(0, 1).await.unwrap();
    assert_eq!(lines.len(), 1);
    let rest = s.purchase_lines_page(lines[0].line_id, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    let all: Vec<&PurchaseLine> = lines.iter().chain(&rest).collect();
    assert!(all.iter().all(|l| l.customer_id == order.row.customer_id));
    assert_eq!(all.iter().map(|l| l.net_minor()).sum::<i64>(), 105_000);
    let partly = s.refund_order(order.row.id, 45_000).await.unwrap();
    let net: i64 = s
        .purchase_lines_page(0, 10)
        .await
        .unwrap()
        .iter()
        .map(PurchaseLine::net_minor)
        .sum();
    // 60,000 of 105,000 kept: each line keeps its share, to the nearest unit.
    assert!(
        (net - 60_000).abs() <= 2,
        "a refund's share leaves each line: {net}"
    );
    assert_eq!(
        (partly.status.as_str(), partly.refunded_minor),
        ("partially_refunded", 45_000)
    );
    assert!(
        s.refund_order(order.row.id, 70_000).await.is_err(),
        "more than is left"
    );
    assert_eq!(
        s.refund_order(order.row.id, 60_000).await.unwrap().status,
        OrderStatus::Refunded
    );
    let refunded = s.purchase_lines_page(0, 10).await.unwrap();
    assert!(refunded.iter().all(|l| l.net_minor() == 0), "{refunded:?}");
    assert_eq!(s.stats().await.unwrap().orders, 1);
});

each_backend!(users_sessions_tokens_and_audit, |s| {
    let u = s
        .create_user("admin@nunchi.local", "Admin", "hash", "admin", "ko")
        .await
        .unwrap();
    assert!(matches!(
        s.create_user("admin@nunchi.local", "Again", "h", "viewer", "en")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.count_users().await.unwrap(), 1);
    s.create_session(&Session {
        token_hash: "th".into(),
        user_id: u.id,
        csrf_token: "csrf".into(),
        created_at: 0,
        expires_at: 100,
    })
    .await
    .unwrap();
    assert_eq!(
        s.session("th", 50)
            .await
            .unwrap()
            .map(|(s, u)| (s.csrf_token, u.email)),
        Some(("csrf".into(), "admin@nunchi.local".into()))
    );
    assert!(s.session("th", 150).await.unwrap().is_none(), "expired");
    let t = s
        .create_api_token(u.id, "ci", "tokhash", "nch_ab", "customers:read")
        .await
        .unwrap();
    assert_eq!(s.api_token("tokhash").await.unwrap().unwrap().0.id, t.id);
    s.revoke_api_token(u.id, t.id).await.unwrap();
    assert!(s.api_token("tokhash").await.unwrap().is_none());
    for _ in 0..3 {
        s.record_login_failure(u.id, 3, 999).await.unwrap();
    }
    assert_eq!(s.user(u.id).await.unwrap().locked_until, 999);
    s.record_login_success(u.id).await.unwrap();
    assert_eq!(s.user(u.id).await.unwrap().locked_until, 0);
    let team = s.create_team("CX 1팀").await.unwrap();
    s.set_team(u.id, Some(team.id)).await.unwrap();
    s.set_role(u.id, "manager").await.unwrap();
    assert_eq!(
        s.user(u.id).await.unwrap().role,
        nunchi_core::access::Role::Manager
    );
    s.set_password(u.id, "new").await.unwrap();
    assert!(
        s.session("th", 50).await.unwrap().is_none(),
        "a new password ends sessions"
    );
    for i in 0..3 {
        s.audit(&NewAuditEntry {
            at: i,
            actor: "admin".into(),
            action: "sign_in".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let log = s.audit_log(None, 2).await.unwrap();
    assert_eq!(log.iter().map(|e| e.at).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(s.audit_log(Some(log[1].id), 10).await.unwrap().len(), 1);
});

each_backend!(jobs_are_claimed_retried_and_survive_a_dead_worker, |s| {
    let a = s.enqueue_job("demo", "{}", 0, 3).await.unwrap();
    let later = s.enqueue_job("demo", "{}", 10_000, 3).await.unwrap();
    let j = s.claim_job("w1", 100, 1_000).await.unwrap().unwrap();
    assert_eq!((j.id, j.status.as_str(), j.attempts), (a, "running", 1));
    assert!(
        s.claim_job("w2", 200, 1_000).await.unwrap().is_none(),
        "running and not yet due"
    );
    // The worker dies; once its lease has passed another takes the job.
    let again = s.claim_job("w2", 1_200, 1_000).await.unwrap().unwrap();
    assert_eq!(
        (again.id, again.attempts, again.locked_by.as_deref()),
        (a, 2, Some("w2"))
    );
    s.fail_job(a, "boom", Some(5_000)).await.unwrap();
    assert_eq!(
        s.job(a).await.unwrap().status,
        nunchi_core::status::JobStatus::Queued
    );
    assert!(s.claim_job("w2", 4_000, 1_000).await.unwrap().is_none());
    s.claim_job("w2", 5_000, 1_000).await.unwrap().unwrap();
    s.complete_job(a, "{\"ok\":true}").await.unwrap();
    let done = s.job(a).await.unwrap();
    assert_eq!(
        (done.status.as_str(), done.last_error.as_deref()),
        ("done", Some("boom"))
    );
    let l = s.claim_job("w3", 10_000, 1_000).await.unwrap().unwrap();
    assert_eq!(l.id, later);
    s.fail_job(later, "gave up", None).await.unwrap();
    assert_eq!(
        s.job(later).await.unwrap().status,
        nunchi_core::status::JobStatus::Failed
    );
    assert_eq!(s.jobs(10).await.unwrap().len(), 2);
});

#[tokio::test]
async fn sqlite_backup_and_restore_round_trip() {
    let url = testing::fresh_url("sqlite").await.unwrap();
    let s = nunchi_store::connect(&url).await.unwrap();
    let id = s
        .create_customer(
            &customer("B-1", "백업", "backup@example.com", ""),
            &[],
            "test",
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.db");
    s.backup_to(&backup).await.unwrap();
    s.add_note(id, None, "agent", "after the backup")
        .await
        .unwrap();
    s.close().await;
    let target = std::path::PathBuf::from(url.trim_start_matches("sqlite:"));
    nunchi_store::sqlite::restore(&backup, &target)
        .await
        .unwrap();
    let restored = nunchi_store::connect(&url).await.unwrap();
    assert_eq!(
        restored.customer(id).await.unwrap().row.name.as_deref(),
        Some("백업")
    );
    assert!(
        restored.notes(id).await.unwrap().is_empty(),
        "the note came after the backup"
    );
    std::fs::write(dir.path().join("junk.db"), b"not a database").unwrap();
    assert!(
        nunchi_store::sqlite::restore(&dir.path().join("junk.db"), &target)
            .await
            .is_err()
    );
    assert!(matches!(
        IdentityKind::parse("email"),
        Ok(IdentityKind::Email)
    ));
}

each_backend!(
    rows_repeating_within_one_batch_update_the_customer_the_batch_created,
    |s| {
        let mut first = customer("D-1", "윤도현", "dohyun@example.com", "010-4444-5555");
        first.created_at = Some(Millis(86_400_000 * 3 + 5));
        let mut again = customer("D-1", "윤도현B", "", "");
        again.email = None;
        let same_email = customer("D-2", "x", "dohyun@example.com", "");
        let res = s
            .upsert_customers(&[first, again, same_email], "csv")
            .await
            .unwrap();
        let id = match res[0] {
            Ok(Upserted::Created(id)) => id,
            ref other => panic!("{other:?}"),
        };
        assert_eq!(res[1].as_ref().unwrap(), &Upserted::Updated(id));
        assert_eq!(
            res[2].as_ref().unwrap(),
            &Upserted::Updated(id),
            "unknown external id, known e-mail: matched by e-mail"
        );
        let c = s.customer(id).await.unwrap();
        assert_eq!(c.row.name.as_deref(), Some("x"));
        assert_eq!(
            c.identities
                .iter()
                .filter(|i| i.kind == IdentityKind::ExternalId)
                .count(),
            2
        );
        assert_eq!(
            c.row.created_at,
            86_400_000 * 3 + 5,
            "created_at from the record"
        );
        assert_eq!(s.daily_signups().await.unwrap(), vec![(3, 1)]);
        s.upsert_order_lines(&[
            line("O-R1", "D-1", "크림", "32000", "2", "KRW"),
            line("O-R2", "D-1", "Cream", "10.00", "1", "USD"),
        ])
        .await
        .unwrap();
        assert_eq!(
            s.revenue_by_channel().await.unwrap(),
            vec![
                ("app".to_string(), "KRW".to_string(), 64_000),
                ("app".to_string(), "USD".to_string(), 1_000)
            ]
        );
        assert_eq!(s.attribute_keys().await.unwrap(), Vec::<String>::new());
    }
);

each_backend!(
    one_bad_new_row_fails_alone_when_its_group_is_retried_row_by_row,
    |s| {
        let seed = s
            .create_customer(&customer("G-0", "기존", "g0@example.com", ""), &[], "test")
            .await
            .unwrap();
        s.set_attribute(seed, "visits", AttributeType::Number, "3")
            .await
            .unwrap();
        let mut rows: Vec<CustomerRecord> = (1..=5)
            .map(|i| {
                customer(
                    &format!("G-{i}"),
                    &format!("고객{i}"),
                    &format!("g{i}@example.com"),
                    "",
                )
            })
            .collect();
        for (i, r) in rows.iter_mut().enumerate() {
            let value = if i == 2 { "many" } else { "7" };
            r.attributes = vec![
                ("visits".into(), AttributeType::infer(value), value.into()),
                ("colour".into(), AttributeType::Text, "blue".into()),
            ];
        }
        let res = s.upsert_customers(&rows, "csv").await.unwrap();
        let created = res
            .iter()
            .filter(|r| matches!(r, Ok(Upserted::Created(_))))
            .count();
        assert_eq!(created, 4, "{res:?}");
        assert!(
            matches!(res[2], Err(StoreError::Conflict(ref m)) if m.contains("declared number")),
            "{:?}",
            res[2]
        );
        assert_eq!(
            s.find_by_identity(&Identity::parse("external_id", "G-3").unwrap())
                .await
                .unwrap(),
            None,
            "nothing of the bad row remains"
        );
        assert_eq!(
            s.attribute_keys().await.unwrap(),
            vec!["colour".to_string(), "visits".to_string()]
        );
        let ok = match res[4] {
            Ok(Upserted::Created(id)) => id,
            _ => unreachable!(),
        };
        assert_eq!(s.customer(ok).await.unwrap().attributes.len(), 2);
        assert_eq!(s.search_customers("고객5", 5).await.unwrap()[0].id, ok);
    }
);

each_backend!(new_orders_in_one_batch_match_line_by_line_semantics, |s| {
    s.create_customer(
        &customer("B-C", "일괄", "bulk@example.com", ""),
        &[],
        "test",
    )
    .await
    .unwrap();
    let mut refunded = line("B-2", "B-C", "세럼", "45000", "1", "KRW");
    refunded.refunded = Some(nunchi_core::money::Money::new(
        45_000,
        nunchi_core::money::Currency::KRW,
    ));
    let res = s
        .upsert_order_lines(&[
            line("B-1", "B-C", "크림", "32000", "1", "KRW"),
            refunded,
            line("B-1", "B-C", "크림", "32000", "3", "KRW"),
            line("B-1", "B-C", "토너", "18000", "1", "KRW"),
        ])
        .await
        .unwrap();
    assert!(res.iter().all(|r| r.is_ok()), "{res:?}");
    assert_eq!(
        res[0].as_ref().unwrap(),
        res[2].as_ref().unwrap(),
        "lines of one order name one order"
    );
    let orders = s.orders_page(0, 10).await.unwrap();
    let b1 = orders.iter().find(|o| o.row.external_id == "B-1").unwrap();
    assert_eq!(
        (b1.row.total_minor, b1.items.len()),
        (3 * 32_000 + 18_000, 2),
        "the later line for a product replaces the earlier"
    );
    let b2 = orders.iter().find(|o| o.row.external_id == "B-2").unwrap();
    assert_eq!(b2.row.refunded_minor, 45_000);
    assert_eq!(&s.order(b1.row.id).await.unwrap(), b1);
    assert!(matches!(
        s.order(987_654).await,
        Err(StoreError::NotFound(_))
    ));
});

fn event(
    source_id: i64,
    message_id: &str,
    name: &str,
    customer_id: Option<i64>,
    anon: Option<&str>,
    ts: i64,
) -> EventRow {
    EventRow {
        id: 0,
        source_id,
        message_id: message_id.into(),
        kind: "track".into(),
        name: name.into(),
        customer_id,
        user_id: customer_id.map(|c| format!("U-{c}")),
        anonymous_id: anon.map(str::to_string),
        channel: "web".into(),
        ts,
        received_at: 1_000 + ts,
        properties: r#"{"sku":"A-1"}"#.into(),
        context: "{}".into(),
    }
}

each_backend!(events_append_in_order_and_stitch_anonymous_visitors, |s| {
    let source = s
        .create_source("web", "hash-1", "nk_abc", Some("web"))
        .await
        .unwrap();
    assert_eq!(
        s.source_by_key("hash-1").await.unwrap(),
        Some(source.clone())
    );
    assert_eq!(s.source_by_key("nope").await.unwrap(), None);
    assert!(matches!(
        s.create_source("dup", "hash-1", "nk_x", None).await,
        Err(StoreError::Conflict(_))
    ));
    let c = s
        .create_customer(
            &customer("C-9", "이서연", "seoyeon@example.com", "010-2222-3333"),
            &[],
            "test",
        )
        .await
        .unwrap();
    // More rows than one statement holds, so the multi-statement transaction is exercised.
    let mut batch: Vec<EventRow> = (0..2_500)
        .map(|i| {
            event(
                source.id,
                &format!("m-{i}"),
                "view_product",
                None,
                Some("anon-7"),
                i,
            )
        })
        .collect();
    batch.push(event(source.id, "m-buy", "purchase", Some(c), None, 5_000));
    s.append_events(&batch).await.unwrap();
    assert_eq!(s.count_events().await.unwrap(), 2_501);
    let page = s.events_page(0, 3).await.unwrap();
    assert_eq!(
        page.iter()
            .map(|e| e.message_id.as_str())
            .collect::<Vec<_>>(),
        ["m-0", "m-1", "m-2"]
    );
    assert_eq!(page[0].properties, r#"{"sku":"A-1"}"#);
    let rest = s.events_page(page[2].id, 10_000).await.unwrap();
    assert_eq!(rest.len(), 2_498);
    assert!(rest.windows(2).all(|w| w[0].id < w[1].id));

    assert_eq!(s.customer_events(c, 10).await.unwrap().len(), 1);
    let anon = Identity::parse("anonymous_id", "anon-7").unwrap();
    s.add_identity(c, &anon, "test").await.unwrap();
    assert_eq!(
        s.anonymous_links().await.unwrap(),
        vec![("anon-7".to_string(), c)]
    );
    let theirs = s.customer_events(c, 5).await.unwrap();
    assert_eq!(theirs.len(), 5);
    assert_eq!(theirs[0].name, "purchase", "newest first");

    // A merge carries events and anonymous links to the surviving customer.
    let d = s
        .create_customer(
            &customer("C-10", "Dana", "dana@example.com", "010-4444-5555"),
            &[],
            "test",
        )
        .await
        .unwrap();
    s.merge_customers(c, d, "tester").await.unwrap();
    assert_eq!(s.customer_events(d, 10_000).await.unwrap().len(), 2_501);
    assert_eq!(
        s.anonymous_links().await.unwrap(),
        vec![("anon-7".to_string(), d)]
    );
});

each_backend!(journey_stages_and_touchpoints_are_editable, |s| {
    let stages = s.stages().await.unwrap();
    let keys: Vec<&str> = stages.iter().map(|st| st.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "awareness",
            "consideration",
            "purchase",
            "delivery",
            "use",
            "support",
            "loyalty"
        ]
    );
    assert_eq!(stages[3].name_ko, "배송");
    let extra = s
        .add_stage("onboarding", "온보딩", "Onboarding")
        .await
        .unwrap();
    assert_eq!(s.stages().await.unwrap().last().unwrap().id, extra.id);
    s.move_stage(extra.id, -1).await.unwrap();
    let order: Vec<i64> = s.stages().await.unwrap().iter().map(|st| st.id).collect();
    assert_eq!(order[order.len() - 2], extra.id);
    s.rename_stage(extra.id, "첫 사용", "First use")
        .await
        .unwrap();
    assert!(matches!(
        s.rename_stage(9_999, "x", "y").await,
        Err(StoreError::NotFound(_))
    ));

    let new = NewTouchpoint {
        name: "Checkout page".into(),
        channel: "web".into(),
        event: "page_view".into(),
        conditions: r#"[{"property":"name","op":"eq","value":"Checkout"}]"#.into(),
        stage_id: Some(stages[2].id),
        expected_rating: Some(4.5),
    };
    let t = s.create_touchpoint(&new).await.unwrap();
    assert_eq!(
        (t.name.as_str(), t.stage_id, t.expected_rating),
        ("Checkout page", Some(stages[2].id), Some(4.5))
    );
    let moved = s
        .update_touchpoint(
            t.id,
            &NewTouchpoint {
                stage_id: Some(extra.id),
                ..new.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.stage_id, Some(extra.id));
    s.delete_stage(extra.id).await.unwrap();
    assert_eq!(
        s.touchpoints().await.unwrap()[0].stage_id,
        None,
        "off the map, not deleted"
    );
    s.delete_touchpoint(t.id).await.unwrap();
    assert!(s.touchpoints().await.unwrap().is_empty());
    assert!(matches!(
        s.delete_touchpoint(t.id).await,
        Err(StoreError::NotFound(_))
    ));
});

fn review(
    external_id: Option<&str>,
    metric: &str,
    rating: f64,
    body: &str,
    at: i64,
) -> NewFeedback {
    let (lo, hi) = match metric {
        "nps" => (0.0, 10.0),
        "ces" => (1.0, 7.0),
        _ => (1.0, 5.0),
    };
    NewFeedback {
        source: if metric == "rating" {
            "review"
        } else {
            "survey"
        }
        .into(),
        external_id: external_id.map(str::to_string),
        metric: Some(metric.into()),
        rating: Some(rating),
        scale_min: Some(lo),
        scale_max: Some(hi),
        score: Some((rating - lo) / (hi - lo)),
        body: body.into(),
        url: None,
        author: Some("민지".into()),
        customer_id: None,
        touchpoint_id: None,
        stage_id: None,
        team_id: None,
        channel: "app".into(),
        created_at: at,
    }
}

each_backend!(
    feedback_is_idempotent_listed_scored_annotated_merged_and_erased,
    |s| {
        let c = s
            .create_customer(
                &customer("FB-1", "한민지", "minji@example.com", "010-5555-1111"),
                &[],
                "test",
            )
            .await
            .unwrap();
        let stages = s.stages().await.unwrap();
        let delivery = stages.iter().find(|st| st.key == "delivery").unwrap().id;
        let tp = s
            .create_touchpoint(&NewTouchpoint {
                name: "Delivery notice".into(),
                channel: "app".into(),
                event: "order_delivered".into(),
                conditions: "[]".into(),
                stage_id: Some(delivery),
                expected_rating: Some(4.5),
            })
            .await
            .unwrap();
        let mut first = review(Some("R-1"), "rating", 2.0, "배송이 너무 늦었어요", 1_000);
        first.customer_id = Some(c);
        first.touchpoint_id = Some(tp.id);
        let mut second = review(Some("S-1"), "nps", 9.0, "", 2_000);
        second.stage_id = Some(delivery);
        let text_only = NewFeedback {
            metric: None,
            rating: None,
            scale_min: None,
            scale_max: None,
            score: None,
            source: "social".into(),
            ..review(None, "rating", 1.0, "great packaging", 3_000)
        };
        let added = s
            .add_feedback(&[first.clone(), second.clone(), text_only])
            .await
            .unwrap();
        let ids: Vec<i64> = added
            .iter()
            .map(|a| match a {
                Added::Created(id) => *id,
                Added::Existing(_) => panic!("all new: {added:?}"),
            })
            .collect();
        // The same review imported again is recognised, even beside a new one.
        let again = s
            .add_feedback(&[
                first.clone(),
                review(Some("R-2"), "rating", 5.0, "좋아요", 4_000),
            ])
            .await
            .unwrap();
        assert_eq!(again[0], Added::Existing(ids[0]));
        assert!(matches!(again[1], Added::Created(_)));

        let newest = s
            .list_feedback(&FeedbackFilter {
                limit: 2,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(newest.len(), 2);
        assert!(newest[0].id > newest[1].id, "newest first");
        let older = s
            .list_feedback(&FeedbackFilter {
                limit: 10,
                before_id: Some(newest[1].id),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(older.len(), 2);
        let feed = s
            .list_feedback(&FeedbackFilter {
                limit: 10,
                after_id: Some(ids[0]),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            feed.iter().map(|f| f.id).collect::<Vec<_>>()[..2],
            [ids[1], ids[2]],
            "oldest first after a cursor"
        );
        let reviews = s
            .list_feedback(&FeedbackFilter {
                limit: 10,
                source: Some("review".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(reviews.len(), 2);

        let nps = s.metric_ratings("nps", 0, 10_000).await.unwrap();
        assert_eq!(nps.len(), 1);
        assert_eq!((nps[0].rating, nps[0].stage_id), (9.0, Some(delivery)));
        assert!(
            s.metric_ratings("nps", 2_001, 10_000)
                .await
                .unwrap()
                .is_empty()
        );

        // Text annotations arrive later; until then the text waits in the queue.
        let waiting = s.unannotated(10).await.unwrap();
        assert_eq!(waiting.len(), 3, "feedback without text waits for nothing");
        assert_eq!(waiting[0], (ids[0], "배송이 너무 늦었어요".to_string()));
        s.annotate(&[(
            ids[0],
            Annotation {
                lang: "ko".into(),
                sentiment: -0.8,
                sentiment_label: "negative".into(),
                topics: r#"[{"topic":"delivery/delay","ko":"배송 지연","en":"delivery delay"}]"#
                    .into(),
            },
        )])
        .await
        .unwrap();
        assert_eq!(s.unannotated(10).await.unwrap().len(), 2);
        let annotated = s.feedback(ids[0]).await.unwrap();
        let topics = annotated.topics.as_deref().expect("annotated topics");
        assert_eq!(topics[0].ko, "배송 지연");
        assert_eq!(
            (annotated.lang.as_deref(), annotated.sentiment),
            (Some("ko"), Some(-0.8))
        );
        assert!(annotated.annotated_at.is_some());

        // Both the touchpoint's feedback and the stage's own count for the delivery stage.
        let signals = s.stage_signals(0, 10_000).await.unwrap();
        assert_eq!(signals.len(), 1, "{signals:?}");
        let d = &signals[0];
        assert_eq!((d.stage_id, d.scores, d.sentiments), (delivery, 2, 1));
        assert!((d.score_sum.unwrap() - (0.25 + 0.9)).abs() < 1e-9, "{d:?}");
        assert!((d.sentiment_sum.unwrap() + 0.8).abs() < 1e-9);

        // The perception gap's input: the touchpoint's normalised ratings.
        let by_touchpoint = s.touchpoint_signals(0, 10_000).await.unwrap();
        assert_eq!(by_touchpoint.len(), 1);
        assert_eq!(
            (by_touchpoint[0].touchpoint_id, by_touchpoint[0].scores),
            (tp.id, 1)
        );
        assert!((by_touchpoint[0].score_sum - 0.25).abs() < 1e-9);

        // Merging moves feedback; erasing keeps the rating and drops the words.
        let other = s
            .create_customer(
                &customer("FB-2", "한민지", "minji2@example.com", "010-5555-2222"),
                &[],
                "test",
            )
            .await
            .unwrap();
        s.merge_customers(c, other, "tester").await.unwrap();
        let moved = s
            .list_feedback(&FeedbackFilter {
                limit: 10,
                customer_id: Some(other),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(moved.len(), 1);
        s.erase_customer(other, "tester").await.unwrap();
        let erased = s.feedback(ids[0]).await.unwrap();
        assert_eq!(
            (
                erased.body.as_str(),
                erased.author.as_deref(),
                erased.rating
            ),
            ("", None, Some(2.0))
        );
        assert!(matches!(
            s.feedback(9_999).await,
            Err(StoreError::NotFound(_))
        ));
    }
);

each_backend!(
    closed_loop_rules_open_one_follow_up_per_feedback_and_track_it_to_closure,
    |s| {
        let seg = s
            .create_segment(&NewSegment {
                name: "VIP".into(),
                description: "".into(),
                kind: "live".into(),
                rule: r#"{"type": "tag", "tag": "vip"}"#.into(),
                created_by: "tester".into(),
            })
            .await
            .unwrap();
        let rule = s
            .create_loop_rule(&NewLoopRule {
                name: "Detractors".into(),
                max_score: Some(0.6),
                min_score: Some(0.0),
                max_sentiment: None,
                topic: None,
                source: None,
                owner_id: None,
                due_hours: 24,
                notify_email: Some("cx-lead@example.com".into()),
                notify_webhook: true,
                tag: Some("vip".into()),
                segment_id: Some(seg),
            })
            .await
            .unwrap();
        assert_eq!(s.loop_rules().await.unwrap(), vec![rule.clone()]);
        assert_eq!(rule.segment_id, Some(seg));
        let added = s
            .add_feedback(&[
                review(None, "nps", 3.0, "", 1_000),
                review(None, "rating", 5.0, "좋아요", 2_000),
            ])
            .await
            .unwrap();
        let (rated, texted) = match (added[0], added[1]) {
            (Added::Created(a), Added::Created(b)) => (a, b),
            other => panic!("{other:?}"),
        };
        // Text waits for its annotations before the rules see it; a bare rating does not.
        let waiting: Vec<i64> = s.unlooped(10).await.unwrap().iter().map(|f| f.id).collect();
        assert_eq!(waiting, vec![rated]);
        let open = NewFollowUp {
            feedback_id: rated,
            rule_ids: vec![rule.id],
            owner_id: None,
            due_at: 86_400_000,
        };
        let notify = NewJob {
            kind: "email".into(),
            payload: "{}".into(),
            run_at: 0,
            max_attempts: 5,
        };
        s.open_follow_ups(
            &[rated],
            std::slice::from_ref(&open),
            std::slice::from_ref(&notify),
        )
        .await
        .unwrap();
        // The same feedback meeting another rule later: still one follow-up, both rules on it.
        let other = s
            .create_loop_rule(&NewLoopRule {
                name: "Angry".into(),
                max_score: None,
                min_score: None,
                max_sentiment: Some(-0.5),
                topic: None,
                source: None,
                owner_id: None,
                due_hours: 4,
                notify_email: None,
                notify_webhook: false,
                tag: None,
                segment_id: None,
            })
            .await
            .unwrap();
        s.open_follow_ups(&[], std::slice::from_ref(&open), &[])
            .await
            .unwrap();
        s.open_follow_ups(
            &[],
            &[NewFollowUp {
                rule_ids: vec![other.id],
                ..open
            }],
            &[],
        )
        .await
        .unwrap();
        let queued = s.jobs(10).await.unwrap();
        assert_eq!(
            (
                queued.len(),
                queued[0].kind.as_str(),
                queued[0].max_attempts
            ),
            (1, "email", 5),
            "the notification is queued with the follow-up"
        );
        assert!(s.unlooped(10).await.unwrap().is_empty());
        let follow_ups = s.follow_ups(Some("open"), 10).await.unwrap();
        assert_eq!(follow_ups.len(), 1, "one follow-up per feedback");
        assert_eq!(follow_ups[0].rule_id, Some(rule.id));
        assert_eq!(follow_ups[0].rule_ids, vec![rule.id, other.id]);
        assert_eq!(s.follow_up_for(rated).await.unwrap(), follow_ups[0]);
        let note = s
            .add_follow_up_note(follow_ups[0].id, None, "left a voicemail")
            .await
            .unwrap();
        s.add_follow_up_note(follow_ups[0].id, None, "called back; refund agreed")
            .await
            .unwrap();
        let notes = s.follow_up_notes(follow_ups[0].id).await.unwrap();
        assert_eq!(notes.len(), 2);
        assert_eq!(
            s.follow_up_notes_many(&[follow_ups[0].id, 9_999])
                .await
                .unwrap(),
            notes
        );
        let many = s.feedback_many(&[texted, rated, 9_999]).await.unwrap();
        assert_eq!(
            many.iter().map(|f| f.id).collect::<Vec<_>>(),
            vec![rated, texted]
        );
        assert_eq!(notes[0], note, "oldest first");
        assert!(matches!(
            s.add_follow_up_note(9_999, None, "x").await,
            Err(StoreError::NotFound(_))
        ));
        let closed = s
            .close_follow_up(follow_ups[0].id, "called the customer")
            .await
            .unwrap();
        assert_eq!(
            (closed.status.as_str(), closed.resolution.as_deref()),
            ("closed", Some("called the customer"))
        );
        assert!(closed.closed_at.is_some());
        assert!(matches!(
            s.close_follow_up(closed.id, "again").await,
            Err(StoreError::NotFound(_))
        ));
        assert!(s.follow_ups(Some("open"), 10).await.unwrap().is_empty());
        s.annotate(&[(
            texted,
            Annotation {
                lang: "ko".into(),
                sentiment: 0.9,
                sentiment_label: "positive".into(),
                topics: "[]".into(),
            },
        )])
        .await
        .unwrap();
        assert_eq!(s.unlooped(10).await.unwrap()[0].id, texted);
        s.delete_loop_rule(rule.id).await.unwrap();
        assert!(matches!(
            s.delete_loop_rule(rule.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(
            s.follow_ups(None, 10).await.unwrap()[0].rule_id,
            None,
            "the follow-up outlives its rule"
        );
    }
);

each_backend!(
    root_causes_group_negative_feedback_by_topic_and_are_fixed_once,
    |s| {
        let c = s
            .create_customer(
                &customer("RC-1", "이서연", "seoyeon@example.com", "010-7777-1111"),
                &[],
                "test",
            )
            .await
            .unwrap();
        let mut late = review(None, "rating", 1.0, "배송이 너무 늦어요", 1_000);
        late.customer_id = Some(c);
        let mut happy = review(None, "rating", 5.0, "배송이 늦었지만 괜찮아요", 2_000);
        happy.customer_id = Some(c);
        let other_topic = review(None, "rating", 1.0, "가격이 비싸요", 3_000);
        let ids: Vec<i64> = s
            .add_feedback(&[late, happy, other_topic])
            .await
            .unwrap()
            .into_iter()
            .map(|a| match a {
                Added::Created(id) => id,
                other => panic!("{other:?}"),
            })
            .collect();
        let topic = |key: &str, label: &str| Annotation {
            lang: "ko".into(),
            sentiment: 0.0,
            sentiment_label: label.into(),
            topics: format!(r#"[{{"en":"x","ko":"y","score":1.0,"topic":"{key}"}}]"#),
        };
        s.annotate(&[
            (ids[0], topic("delivery_delay", "negative")),
            (ids[1], topic("delivery_delay", "positive")),
            (ids[2], topic("price", "negative")),
        ])
        .await
        .unwrap();
        let rc = s
            .create_root_cause("delivery_delay", "Courier change", None, 0)
            .await
            .unwrap();
        assert_eq!(
            (rc.status.as_str(), rc.feedback_count, rc.customers),
            ("open", 1, 1),
            "only the negative feedback on the topic: {rc:?}"
        );
        // New negative feedback on the topic joins the open item as the rules look at it.
        let mut later = review(None, "csat", 2.0, "또 늦었어요", 4_000);
        later.customer_id = Some(c);
        let Added::Created(later) = s.add_feedback(&[later]).await.unwrap()[0] else {
            panic!()
        };
        s.annotate(&[(later, topic("delivery_delay", "negative"))])
            .await
            .unwrap();
        s.open_follow_ups(&[later], &[], &[]).await.unwrap();
        assert_eq!(s.root_cause(rc.id).await.unwrap().feedback_count, 2);
        assert_eq!(s.root_cause_customers(rc.id).await.unwrap(), vec![c]);
        let tell = NewJob {
            kind: "email".into(),
            payload: "{}".into(),
            run_at: 0,
            max_attempts: 5,
        };
        let fixed = s
            .fix_root_cause(
                rc.id,
                "Switched courier back",
                1,
                std::slice::from_ref(&tell),
            )
            .await
            .unwrap();
        assert_eq!(
            (
                fixed.status.as_str(),
                fixed.notified,
                fixed.fix_note.as_deref()
            ),
            ("fixed", 1, Some("Switched courier back"))
        );
        assert!(matches!(
            s.fix_root_cause(rc.id, "again", 1, &[tell]).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(s.jobs(10).await.unwrap().len(), 1, "queued once");
        assert_eq!(s.root_causes().await.unwrap().len(), 1);

        let hook = s
            .create_webhook("http://127.0.0.1:9/hook", "whsec_abc", "feedback.created")
            .await
            .unwrap();
        assert!(hook.wants("feedback.created") && !hook.wants("follow_up.opened"));
        assert_eq!(s.webhook(hook.id).await.unwrap().secret, "whsec_abc");
        assert_eq!(s.webhooks().await.unwrap().len(), 1);
        s.delete_webhook(hook.id).await.unwrap();
        assert!(matches!(
            s.delete_webhook(hook.id).await,
            Err(StoreError::NotFound(_))
        ));
    }
);

fn survey(name: &str, trigger: Option<&str>) -> NewSurvey {
    NewSurvey {
        name: name.into(),
        status: nunchi_core::survey::SurveyStatus::Active,
        audience: nunchi_core::survey::Audience::Customers,
        questions: r#"[{"id":"nps","kind":"nps","text":{"en":"Recommend?"}}]"#.into(),
        touchpoint_id: None,
        stage_id: None,
        team_id: None,
        trigger_event: trigger.map(str::to_string),
        trigger_delay_hours: 24,
        sample_rate: 1.0,
        min_days: 7,
        repeat: nunchi_core::survey::Repeat::UntilAnswered,
    }
}

fn contact(
    survey_id: i64,
    customer_id: Option<i64>,
    status: &str,
    event: Option<i64>,
) -> NewSurveyContact {
    NewSurveyContact {
        survey_id,
        customer_id,
        anonymous_id: None,
        channel: "email".into(),
        status: status.into(),
        reason: None,
        reason_value: None,
        event_id: event,
        response_token: None,
        due_at: 5_000,
        decided_at: (status != "due").then_some(5_000),
    }
}

each_backend!(surveys_keep_partial_responses_and_log_every_contact, |s| {
    let c = s
        .create_customer(
            &customer("SV-1", "박지훈", "jihoon@example.com", "010-3333-4444"),
            &[],
            "test",
        )
        .await
        .unwrap();
    let created = s
        .create_survey("k3y", &survey("Post-purchase NPS", Some("purchase")))
        .await
        .unwrap();
    assert_eq!(s.survey_by_key("k3y").await.unwrap(), created);
    assert!(
        s.create_survey("k3y", &survey("again", None))
            .await
            .is_err(),
        "keys are unique"
    );
    let mut paused = survey("Post-purchase NPS", Some("purchase"));
    paused.status = nunchi_core::survey::SurveyStatus::Closed;
    let updated = s.update_survey(created.id, &paused).await.unwrap();
    assert_eq!(
        (updated.status.as_str(), updated.key.as_str()),
        ("closed", "k3y")
    );
    assert_eq!(s.surveys().await.unwrap().len(), 1);

    let response = s
        .start_response(&NewSurveyResponse {
            survey_id: created.id,
            token: "tok-1".into(),
            customer_id: Some(c),
            anonymous_id: None,
            channel: "email".into(),
            lang: "ko".into(),
            next_question: Some("nps".into()),
        })
        .await
        .unwrap();
    assert!(response.answers.is_empty());
    s.save_response(response.id, r#"{"nps":9}"#, Some("why"), None)
        .await
        .unwrap();
    let partial = s.response_by_token("tok-1").await.unwrap();
    assert_eq!(
        (
            serde_json::Value::Object(partial.answers.0.clone()),
            partial.next_question.as_deref(),
            partial.completed_at
        ),
        (serde_json::json!({"nps": 9}), Some("why"), None),
        "a partial response is kept"
    );
    let e = s.exposure(Some(c), None, created.id, 10_000).await.unwrap();
    assert!(!e.answered_this);

    // Triggered contacts: one per survey and event, with the cursor moved in the same
    // transaction; the due ones come back when their time has come.
    s.schedule_triggered(
        &[
            contact(created.id, Some(c), "due", Some(41)),
            contact(created.id, Some(c), "due", Some(41)),
        ],
        41,
    )
    .await
    .unwrap();
    assert_eq!(
        s.setting("survey_trigger_cursor").await.unwrap().as_deref(),
        Some("41")
    );
    assert!(s.due_contacts(4_999, 10).await.unwrap().is_empty());
    let due = s.due_contacts(5_000, 10).await.unwrap();
    assert_eq!(due.len(), 1, "once per event");
    s.retry_contact(due[0].id, 6_000, "connection refused")
        .await
        .unwrap();
    assert!(s.due_contacts(5_500, 10).await.unwrap().is_empty());
    s.settle_contact(due[0].id, "sent", None, None, Some("tok-1"))
        .await
        .unwrap();
    assert!(s.due_contacts(i64::MAX / 2, 10).await.unwrap().is_empty());
    let sent = &s.contacts(created.id, 10).await.unwrap()[0];
    assert_eq!(
        (
            sent.status.as_str(),
            sent.attempts,
            sent.last_error.as_deref()
        ),
        ("sent", 2, Some("connection refused"))
    );

    let mut suppressed = contact(created.id, Some(c), "suppressed", None);
    suppressed.reason = Some("too_soon".into());
    suppressed.reason_value = Some(3);
    s.add_contacts(&[suppressed.clone(), suppressed])
        .await
        .unwrap();
    let now = sent.decided_at.unwrap() + 1;
    let e = s.exposure(Some(c), None, created.id, now).await.unwrap();
    assert_eq!(
        (e.last_contact_at, e.contacts_30d, e.shown_this),
        (sent.decided_at, 1, 1),
        "suppressions do not count as contacts"
    );
    let e = s
        .exposure(Some(c), None, created.id, now + 31 * 86_400_000)
        .await
        .unwrap();
    assert_eq!(e.contacts_30d, 0);
    s.save_response(response.id, r#"{"nps":9,"why":"빨라요"}"#, None, Some(now))
        .await
        .unwrap();
    assert!(
        s.exposure(Some(c), None, created.id, now)
            .await
            .unwrap()
            .answered_this
    );
    assert_eq!(
        s.exposure(None, Some("anon-x"), created.id, now)
            .await
            .unwrap(),
        ExposureCounts::default()
    );

    let counts = s.contact_counts(created.id).await.unwrap();
    assert_eq!(
        counts,
        vec![
            ContactCount {
                status: "sent".into(),
                reason: None,
                count: 1
            },
            ContactCount {
                status: "suppressed".into(),
                reason: Some("too_soon".into()),
                count: 2
            },
        ]
    );
    assert_eq!(s.responses(created.id, 10).await.unwrap().len(), 1);
    // A response opened and never answered is not "started".
    s.start_response(&NewSurveyResponse {
        survey_id: created.id,
        token: "tok-2".into(),
        customer_id: None,
        anonymous_id: Some("visitor".into()),
        channel: "widget".into(),
        lang: "en".into(),
        next_question: Some("nps".into()),
    })
    .await
    .unwrap();
    assert_eq!(
        s.response_counts().await.unwrap(),
        vec![ResponseCount {
            survey_id: created.id,
            started: 1,
            completed: 1
        }]
    );
    s.set_setting("survey_global_cap", "4").await.unwrap();
    s.set_setting("survey_global_cap", "5").await.unwrap();
    assert_eq!(
        s.setting("survey_global_cap").await.unwrap().as_deref(),
        Some("5")
    );
    assert_eq!(s.setting("missing").await.unwrap(), None);
    assert_eq!(s.last_event_id().await.unwrap(), 0);
    assert!(
        s.trigger_events(0, &["purchase".into()], 10)
            .await
            .unwrap()
            .is_empty()
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_customer_keyed_table_is_in_the_lifecycle_registry() {
    use nunchi_store::lifecycle::CUSTOMER_TABLES;
    for backend in testing::backends() {
        let url = testing::fresh_url(backend).await.unwrap();
        let s = nunchi_store::connect(&url).await.unwrap();
        let live = testing::tables_with_column(&url, "customer_id")
            .await
            .unwrap();
        let mut registered: Vec<String> =
            CUSTOMER_TABLES.iter().map(|t| t.name.to_string()).collect();
        registered.sort();
        assert_eq!(
            live, registered,
            "on {backend}: a table with customer_id must say in nunchi_store::lifecycle what merge, erase and export do with it"
        );
        // The export carries every table the registry says it does.
        let id = s
            .create_customer(
                &customer("EXP-1", "Export", "export@example.com", "010-7777-8888"),
                &[],
                "test",
            )
            .await
            .unwrap();
        let export = serde_json::to_value(s.export_customer(id).await.unwrap()).unwrap();
        for t in CUSTOMER_TABLES {
            if let Some(field) = t.export {
                assert!(
                    export.get(field).is_some(),
                    "the export has no {field} for {}",
                    t.name
                );
            }
        }
    }
}

/// The store never reads the system time: every stamp comes from the clock it was opened
/// with, so moving a test clock moves created and updated times (SLA, expiry and fatigue
/// windows depend on it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_stamped_with_the_store_clock() {
    use std::sync::Arc;
    for backend in testing::backends() {
        let start = 1_600_000_000_000; // 2020-09-13, far from the machine's clock
        let clock = Arc::new(nunchi_core::clock::TestClock::at(start));
        let url = testing::fresh_url(backend).await.unwrap();
        let s = nunchi_store::connect_with_clock(&url, clock.clone())
            .await
            .unwrap();
        let id = s
            .create_customer(
                &customer("c1", "김민지", "minji@example.com", ""),
                &[],
                "test",
            )
            .await
            .unwrap();
        let row = s.customer(id).await.unwrap().row;
        assert_eq!(
            (row.created_at, row.updated_at),
            (start, start),
            "{backend}"
        );
        clock.advance(86_400_000);
        s.update_profile(
            id,
            &ProfileFields {
                language: Some(nunchi_core::customer::Language::parse("ko").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let row = s.customer(id).await.unwrap().row;
        assert_eq!(row.created_at, start, "{backend}");
        assert_eq!(row.updated_at, start + 86_400_000, "{backend}");
        let team = s.create_team("VIP care").await.unwrap();
        assert_eq!(team.created_at, start + 86_400_000, "{backend}");
        let job = s.enqueue_job("email", "{}", start, 3).await.unwrap();
        let claimed = s.claim_job("w", start + 86_400_000, 60_000).await.unwrap();
        assert_eq!(claimed.map(|j| j.id), Some(job), "{backend}");
    }
}

/// Statuses, audiences, roles, channels, sources, currencies and identity kinds are read as
/// core types, and JSON columns (questions, answers, conditions, topics) as their Rust
/// types: a value outside them (written by hand or by an older version) is an error naming
/// the column, never read as a default such as "until answered", "draft" or no topics.
/// (sqlx 0.8 drops the conversion's own message, so the column is what the error can name.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_enum_columns_are_errors_not_defaults() {
    for backend in testing::backends() {
        let url = testing::fresh_url(backend).await.unwrap();
        let s = nunchi_store::connect(&url).await.unwrap();
        let sv = s.create_survey("k1", &survey("NPS", None)).await.unwrap();
        let u = s
            .create_user("a@example.com", "A", "hash", "agent", "ko")
            .await
            .unwrap();
        assert_eq!(
            s.survey(sv.id).await.unwrap().repeat,
            nunchi_core::survey::Repeat::UntilAnswered
        );
        for (sql, what) in [
            (
                format!(
                    "UPDATE surveys SET repeat = 'sometimes' WHERE id = {}",
                    sv.id
                ),
                "column repeat",
            ),
            (
                format!(
                    "UPDATE surveys SET repeat = 'once', status = 'paused' WHERE id = {}",
                    sv.id
                ),
                "column status",
            ),
        ] {
            testing::execute_raw(&url, &sql).await.unwrap();
            let e = s.survey(sv.id).await.expect_err(what);
            assert!(
                e.to_string().replace('"', "").contains(what),
                "{backend}: {e}"
            );
            assert!(s.surveys().await.is_err(), "{backend}: the list fails too");
        }
        testing::execute_raw(
            &url,
            &format!("UPDATE users SET role = 'owner' WHERE id = {}", u.id),
        )
        .await
        .unwrap();
        let e = s.user(u.id).await.expect_err("a bad role");
        assert!(e.to_string().contains("column role"), "{backend}: {e}");

        // Names of the customer's parts, orders and feedback are typed the same way.
        let cid = s
            .create_customer(
                &customer("X-1", "한지우", "jiwoo@example.com", "010-2222-3333"),
                &[],
                "test",
            )
            .await
            .unwrap();
        s.upsert_order_lines(&[line("O-X", "X-1", "크림", "32000", "1", "KRW")])
            .await
            .unwrap();
        let oid = s.orders_page(0, 10).await.unwrap()[0].row.id;
        let fid = match s
            .add_feedback(&[review(None, "nps", 3.0, "느려요", 1_000)])
            .await
            .unwrap()[0]
        {
            Added::Created(id) => id,
            Added::Existing(id) => id,
        };
        for (sql, what) in [
            (
                format!("UPDATE orders SET status = 'lost' WHERE id = {oid}"),
                "column status",
            ),
            (
                format!("UPDATE orders SET status = 'paid', currency = 'XYZ' WHERE id = {oid}"),
                "column currency",
            ),
            (
                format!("UPDATE orders SET currency = 'KRW', channel = 'pigeon' WHERE id = {oid}"),
                "column channel",
            ),
        ] {
            testing::execute_raw(&url, &sql).await.unwrap();
            let e = s.order(oid).await.expect_err(what);
            assert!(
                e.to_string().replace('"', "").contains(what),
                "{backend}: {e}"
            );
        }
        for (sql, what) in [
            (
                format!("UPDATE feedback SET source = 'rumour' WHERE id = {fid}"),
                "column source",
            ),
            (
                format!("UPDATE feedback SET source = 'survey', channel = 'fax' WHERE id = {fid}"),
                "column channel",
            ),
            (
                format!(
                    "UPDATE feedback SET channel = 'app', topics = '[{{\"topic\": 7}}]' WHERE id = {fid}"
                ),
                "column topics",
            ),
            (
                format!("UPDATE feedback SET topics = NULL, metric = 'loudness' WHERE id = {fid}"),
                "column metric",
            ),
        ] {
            testing::execute_raw(&url, &sql).await.unwrap();
            let e = s.feedback(fid).await.expect_err(what);
            assert!(
                e.to_string().replace('"', "").contains(what),
                "{backend}: {e}"
            );
        }
        testing::execute_raw(
            &url,
            &format!("UPDATE customer_identities SET kind = 'fax' WHERE customer_id = {cid}"),
        )
        .await
        .unwrap();
        let e = s.customer(cid).await.expect_err("a bad identity kind");
        assert!(e.to_string().contains("column kind"), "{backend}: {e}");
        // JSON columns are read as their types: questions that are not questions fail.
        testing::execute_raw(
            &url,
            &format!(
                "UPDATE surveys SET repeat = 'once', status = 'draft', questions = '{{\"nps\": 1}}' WHERE id = {}",
                sv.id
            ),
        )
        .await
        .unwrap();
        let e = s
            .survey(sv.id)
            .await
            .expect_err("questions that are not a list");
        assert!(
            e.to_string().replace('"', "").contains("column questions"),
            "{backend}: {e}"
        );
    }
}

each_backend!(segments_keep_members_and_every_entry_and_exit, |s| {
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(
            s.create_customer(
                &customer(
                    &format!("SG-{n}"),
                    "세그",
                    &format!("sg{n}@example.com"),
                    "",
                ),
                &[],
                "test",
            )
            .await
            .unwrap(),
        );
    }
    let new = NewSegment {
        name: "장바구니 이탈".into(),
        description: "".into(),
        kind: "live".into(),
        rule: r#"{"type": "tag", "tag": "vip"}"#.into(),
        created_by: "tester".into(),
    };
    let seg = s.create_segment(&new).await.unwrap();
    assert!(
        matches!(s.create_segment(&new).await, Err(StoreError::Conflict(_))),
        "names are unique"
    );
    const DAY: i64 = 86_400_000;
    let t0 = 20_000 * DAY;
    s.apply_segment_changes(seg, &[ids[0], ids[1], ids[2]], &[], t0, "rule")
        .await
        .unwrap();
    s.apply_segment_changes(seg, &[ids[3]], &[ids[1]], t0 + DAY + 5, "rule")
        .await
        .unwrap();
    let got = s.segment(seg).await.unwrap();
    assert_eq!((got.members, got.evaluated_at), (3, Some(t0 + DAY + 5)));
    assert_eq!(
        s.segment_member_ids(seg).await.unwrap(),
        vec![ids[0], ids[2], ids[3]]
    );
    let page = s.segment_members_page(seg, ids[0], 1).await.unwrap();
    assert_eq!(page, vec![(ids[2], t0)]);
    let mut held = s
        .segment_memberships(&[ids[1], ids[2], ids[3], 999_999])
        .await
        .unwrap();
    held.sort_unstable();
    assert_eq!(held, vec![(seg, ids[2]), (seg, ids[3])]);
    // More customers than one query's list.
    let many: Vec<i64> = (1_000_000..1_001_200).chain([ids[0]]).collect();
    assert_eq!(s.segment_memberships(&many).await.unwrap().len(), 1);
    let changes = s.segment_changes(seg, 10).await.unwrap();
    assert_eq!(changes.len(), 5);
    assert_eq!(changes[0].at, t0 + DAY + 5, "newest first");
    assert!(
        changes
            .iter()
            .any(|c| c.customer_id == ids[1] && !c.entered)
    );
    assert_eq!(
        s.segment_days(seg).await.unwrap(),
        vec![
            SegmentDay {
                day: 20_000,
                entered: 3,
                left: 0
            },
            SegmentDay {
                day: 20_001,
                entered: 1,
                left: 1
            }
        ]
    );
    // Merging drops the merged-away customer's membership; erasing deletes theirs.
    s.merge_customers(ids[3], ids[0], "tester").await.unwrap();
    s.erase_customer(ids[2], "dpo").await.unwrap();
    assert_eq!(s.segment_member_ids(seg).await.unwrap(), vec![ids[0]]);
    assert!(
        s.segment_changes(seg, 10)
            .await
            .unwrap()
            .iter()
            .all(|c| c.customer_id != ids[2] && c.customer_id != ids[3])
    );
    s.update_segment(seg, "이탈 위험", "설명", r#"{"type": "tag", "tag": "x"}"#)
        .await
        .unwrap();
    assert_eq!(s.segments().await.unwrap()[0].name, "이탈 위험");
    s.delete_segment(seg).await.unwrap();
    assert!(matches!(s.segment(seg).await, Err(StoreError::NotFound(_))));
    assert!(s.segment_member_ids(seg).await.unwrap().is_empty());
});

each_backend!(personas_keep_their_story_photo_and_segment_link, |s| {
    let c = s
        .create_customer(
            &customer("PS-1", "페르소나", "ps1@example.com", ""),
            &[],
            "test",
        )
        .await
        .unwrap();
    let seg = s
        .create_segment(&NewSegment {
            name: "찐팬".into(),
            description: "".into(),
            kind: "live".into(),
            rule: r#"{"type": "tag", "tag": "vip"}"#.into(),
            created_by: "tester".into(),
        })
        .await
        .unwrap();
    let mut story = PersonaStory {
        segment_id: Some(seg),
        name_ko: "민지".into(),
        name_en: "Minji".into(),
        goals_ko: "피부 고민 해결".into(),
        quote_ko: "앱으로 편하게 사고 싶어요".into(),
        channels: "app".into(),
        ..PersonaStory::default()
    };
    let id = s.create_persona(&story, "tester").await.unwrap();
    let p = s.persona(id).await.unwrap();
    assert_eq!(
        (p.segment_id, p.name_ko.as_str(), p.has_photo),
        (Some(seg), "민지", false)
    );
    story.pains_en = "Slow delivery".into();
    s.update_persona(id, &story).await.unwrap();
    assert_eq!(s.personas().await.unwrap()[0].pains_en, "Slow delivery");
    let png = b"\x89PNG\r\n\x1a\nrest";
    s.set_persona_photo(id, Some(("image/png", png)))
        .await
        .unwrap();
    assert!(s.persona(id).await.unwrap().has_photo);
    assert_eq!(
        s.persona_photo(id).await.unwrap(),
        Some(("image/png".to_string(), png.to_vec()))
    );
    s.set_persona_photo(id, None).await.unwrap();
    assert_eq!(s.persona_photo(id).await.unwrap(), None);
    // Their customers' feedback, newest first, from a moment on.
    let mut items = Vec::new();
    for (k, at) in [1_000i64, 3_000, 2_000].iter().enumerate() {
        let mut f = review(Some(&format!("ps-{k}")), "nps", 9.0, "좋아요", *at);
        f.customer_id = Some(c);
        items.push(f);
    }
    let mut other = review(Some("ps-x"), "nps", 2.0, "별로", 5_000);
    other.customer_id = None;
    items.push(other);
    s.add_feedback(&items).await.unwrap();
    let got = s
        .feedback_of_customers(&[c, 999_999], 1_500, 10)
        .await
        .unwrap();
    let times: Vec<i64> = got.iter().map(|f| f.created_at).collect();
    assert_eq!(times, vec![3_000, 2_000]);
    // Deleting the segment unlinks the persona; deleting the persona removes it.
    s.delete_segment(seg).await.unwrap();
    assert_eq!(s.persona(id).await.unwrap().segment_id, None);
    s.delete_persona(id).await.unwrap();
    assert!(matches!(s.persona(id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        s.delete_persona(id).await,
        Err(StoreError::NotFound(_))
    ));
});
