//! The support desk's storage on both backends: threads, activity times, the channel's own
//! ids kept once, states, counts, paging, and what merge, erasure and export do with it.

use nunchi_core::{
    conversation::{ConversationChannel, ConversationStatus, MessageDirection, Priority},
    customer::{CustomerName, ProfileFields},
    import::CustomerRecord,
};
use nunchi_store::{Store, StoreError, each_backend, model::*};

async fn person(s: &dyn Store, name: &str) -> i64 {
    let record = CustomerRecord {
        external_id: Some(format!("ext-{name}")),
        profile: ProfileFields {
            name: Some(CustomerName::parse(name).unwrap()),
            ..Default::default()
        },
        email: None,
        phone: None,
        tags: vec![],
        consents: vec![],
        life_events: vec![],
        attributes: vec![],
        created_at: None,
    };
    s.create_customer(&record, &[], "test").await.unwrap()
}

fn line(direction: MessageDirection, text: &str, external_id: Option<&str>) -> NewMessage {
    NewMessage {
        direction,
        channel: ConversationChannel::Email,
        author_user_id: None,
        text: text.into(),
        external_id: external_id.map(str::to_string),
        subject: Some("배송 문의".into()),
        delivery: None,
        at: None,
        client_id: None,
    }
}

fn opening(customer_id: i64) -> NewConversation {
    NewConversation {
        customer_id,
        channel: ConversationChannel::Email,
        subject: "배송 문의".into(),
        priority: Priority::Normal,
        team_id: None,
    }
}

each_backend!(a_thread_keeps_its_lines_in_order_and_its_times, |s| {
    let c = person(&*s, "김민준").await;
    let (conv, first) = s
        .create_conversation(
            &opening(c),
            &line(MessageDirection::Incoming, "환불해 주세요", Some("a@mail")),
        )
        .await
        .unwrap();
    assert_eq!(conv.status, ConversationStatus::Open);
    assert_eq!(conv.last_incoming_at, Some(first.created_at));
    assert_eq!(conv.first_reply_at, None);
    let note = s
        .add_message(
            conv.id,
            &line(MessageDirection::Note, "@지우 확인 부탁", None),
        )
        .await
        .unwrap();
    let after_note = s.conversation(conv.id).await.unwrap();
    assert_eq!(after_note.first_reply_at, None, "a note is not a reply");
    let reply = s
        .add_message(
            conv.id,
            &line(
                MessageDirection::Outgoing,
                "확인하겠습니다",
                Some("r@nunchi"),
            ),
        )
        .await
        .unwrap();
    let replied = s.conversation(conv.id).await.unwrap();
    assert_eq!(replied.first_reply_at, Some(reply.created_at));
    let thread = s.messages(conv.id).await.unwrap();
    assert_eq!(
        thread.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![first.id, note.id, reply.id]
    );
    assert_eq!(thread[0].text, "환불해 주세요");

    // The channel's own id is stored once; the second copy is a conflict.
    assert!(matches!(
        s.add_message(
            conv.id,
            &line(MessageDirection::Incoming, "again", Some("a@mail"))
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    let found = s
        .messages_by_external_id("email", &["nope".into(), "r@nunchi".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, reply.id);
    assert!(
        s.messages_by_external_id("chat", &["r@nunchi".into()])
            .await
            .unwrap()
            .is_empty()
    );

    s.set_delivery(reply.id, "failed", Some("550 no such user"))
        .await
        .unwrap();
    let failed = s.message(reply.id).await.unwrap();
    assert_eq!(failed.delivery.as_deref(), Some("failed"));
    assert_eq!(failed.delivery_error.as_deref(), Some("550 no such user"));
    assert!(matches!(
        s.add_message(9_999_999, &line(MessageDirection::Note, "x", None))
            .await,
        Err(StoreError::NotFound(_))
    ));
});

each_backend!(states_counts_filters_and_paging, |s| {
    let agent = s
        .create_user("agent@nunchi.local", "Agent", "h", "agent", "ko")
        .await
        .unwrap();
    let c = person(&*s, "이서연").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (conv, _) = s
            .create_conversation(
                &opening(c),
                &line(MessageDirection::Incoming, &format!("문의 {i}"), None),
            )
            .await
            .unwrap();
        ids.push(conv.id);
    }
    let base = s.conversation(ids[0]).await.unwrap();
    let state = |status, assignee_id| ConversationState {
        status,
        snoozed_until: None,
        priority: Priority::High,
        team_id: None,
        assignee_id,
        at: None,
    };
    let resolved = s
        .set_conversation_state(ids[0], &state(ConversationStatus::Resolved, Some(agent.id)))
        .await
        .unwrap();
    assert_eq!(resolved.status, ConversationStatus::Resolved);
    assert!(resolved.resolved_at.is_some());
    assert_eq!(resolved.priority, Priority::High);
    assert_eq!(resolved.created_at, base.created_at);
    let reopened = s
        .set_conversation_state(ids[0], &state(ConversationStatus::Open, Some(agent.id)))
        .await
        .unwrap();
    assert_eq!(reopened.resolved_at, None);
    s.set_conversation_state(ids[1], &state(ConversationStatus::Pending, Some(agent.id)))
        .await
        .unwrap();
    s.set_conversation_state(ids[2], &state(ConversationStatus::Resolved, None))
        .await
        .unwrap();
    s.set_labels(ids[1], &["환불".into(), "vip".into(), "환불".into()])
        .await
        .unwrap();
    assert_eq!(
        s.conversation(ids[1]).await.unwrap().labels,
        vec!["vip".to_string(), "환불".to_string()]
    );

    let counts = s.inbox_counts(agent.id).await.unwrap();
    assert_eq!(
        counts,
        InboxCounts {
            open: 3,
            pending: 1,
            snoozed: 0,
            resolved: 1,
            mine: 2,
            unassigned: 2,
        }
    );
    let list = |f: ConversationFilter| {
        let s = s.clone();
        async move {
            s.conversations(&f)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    let mine = list(ConversationFilter {
        assignee: Some(AssigneeFilter::User(agent.id)),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(mine.len(), 2);
    let nobody_open = list(ConversationFilter {
        status: Some(ConversationStatus::Open),
        assignee: Some(AssigneeFilter::Nobody),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(nobody_open.len(), 2);
    assert!(!nobody_open.contains(&ids[2]));

    // Pages of two, newest activity first, cover all five once.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s
            .conversations(&ConversationFilter {
                customer_id: Some(c),
                before,
                limit: 2,
                ..Default::default()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        before = Some((last.last_message_at, last.id));
        seen.extend(page.iter().map(|c| c.id));
    }
    let mut want = ids.clone();
    want.reverse();
    assert_eq!(seen, want);
});

each_backend!(merge_moves_conversations_and_erasure_keeps_no_words, |s| {
    let a = person(&*s, "박지우").await;
    let b = person(&*s, "Jiwoo Park").await;
    let (conv, _) = s
        .create_conversation(
            &opening(b),
            &line(
                MessageDirection::Incoming,
                "제 주소는 서울시 마포구입니다",
                Some("m@x"),
            ),
        )
        .await
        .unwrap();
    s.set_labels(conv.id, &["배송".into()]).await.unwrap();
    s.merge_customers(b, a, "tester").await.unwrap();
    assert_eq!(s.conversation(conv.id).await.unwrap().customer_id, a);
    let timeline = s.timeline(a, None, 50).await.unwrap();
    assert!(
        timeline
            .iter()
            .any(|t| t.kind == "conversation" && t.ref_id == conv.id)
    );
    let export = s.export_customer(a).await.unwrap();
    assert_eq!(export.conversations.len(), 1);
    assert_eq!(
        export.conversation_messages[0].text,
        "제 주소는 서울시 마포구입니다"
    );

    s.erase_customer(a, "dpo").await.unwrap();
    let kept = s.conversation(conv.id).await.unwrap();
    assert_eq!(kept.subject, "");
    assert!(kept.labels.is_empty());
    assert_eq!(
        kept.channel,
        ConversationChannel::Email,
        "reports keep the channel"
    );
    let thread = s.messages(conv.id).await.unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].text, "");
    assert_eq!(thread[0].external_id, None);
});

each_backend!(unreadable_mail_is_kept_whole, |s| {
    let raw = b"\xff\xfe not mail at all \x00".to_vec();
    let id = s
        .keep_unreadable_mail(&raw, "no From header")
        .await
        .unwrap();
    let kept = s.unreadable_mail(10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].id, id);
    assert_eq!(kept[0].raw, raw);
    assert_eq!(kept[0].reason, "no From header");
});

each_backend!(sla_policies_deadlines_and_breaches_recorded_once, |s| {
    let policy = s
        .create_sla_policy(&NewSlaPolicy {
            name: "VIP".into(),
            team_id: None,
            priority: Some("urgent".into()),
            first_response_minutes: Some(60),
            next_response_minutes: None,
            resolution_minutes: Some(480),
            business_hours: Some("mon-fri 09:00-17:00".into()),
            time_zone: "Asia/Seoul".into(),
            korean_holidays: true,
            holidays: "2026-12-31".into(),
        })
        .await
        .unwrap();
    assert_eq!(s.sla_policies().await.unwrap(), vec![policy.clone()]);
    let c = person(&*s, "최유나").await;
    let (conv, _) = s
        .create_conversation(
            &opening(c),
            &line(MessageDirection::Incoming, "급해요", None),
        )
        .await
        .unwrap();
    let d = nunchi_core::sla::Deadlines {
        first_response: Some(1_000),
        next_response: None,
        resolution: Some(2_000),
        resolution_left: None,
    };
    s.set_sla(conv.id, Some(policy.id), &d).await.unwrap();
    let held = s.conversation(conv.id).await.unwrap();
    assert_eq!(held.sla_policy_id, Some(policy.id));
    assert_eq!(held.deadlines(), d);
    assert_eq!(held.next_due(), Some(1_000));
    assert!(
        s.record_breach(conv.id, "first_response", 1_000, 1_500)
            .await
            .unwrap()
    );
    assert!(
        !s.record_breach(conv.id, "first_response", 1_000, 1_600)
            .await
            .unwrap()
    );
    let breaches = s.sla_breaches(0, 10).await.unwrap();
    assert_eq!(breaches.len(), 1);
    assert_eq!(breaches[0].breached_at, 1_500);
    s.delete_sla_policy(policy.id).await.unwrap();
    assert_eq!(s.conversation(conv.id).await.unwrap().sla_policy_id, None);
    assert!(matches!(
        s.delete_sla_policy(policy.id).await,
        Err(StoreError::NotFound(_))
    ));
});

each_backend!(
    search_finds_substrings_in_korean_and_english_of_any_length,
    |s| {
        let c = person(&*s, "한소희").await;
        let texts = [
            "환불해 주세요",
            "배송이 늦어요. 오배송 아닌가요?",
            "Please REFUND my order",
            "100% 만족_아님",
            "교환",
        ];
        let (conv, _) = s
            .create_conversation(
                &opening(c),
                &line(MessageDirection::Incoming, texts[0], None),
            )
            .await
            .unwrap();
        for t in &texts[1..] {
            s.add_message(conv.id, &line(MessageDirection::Incoming, t, None))
                .await
                .unwrap();
        }
        s.add_message(
            conv.id,
            &line(MessageDirection::Activity, "status=환불", None),
        )
        .await
        .unwrap();
        let found = |q: &'static str| {
            let s = s.clone();
            async move {
                s.search_messages(q, 50)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| m.text)
                    .collect::<Vec<_>>()
            }
        };
        // One and two syllables (below a trigram), three and more, across a space.
        assert_eq!(
            found("환불").await,
            vec![texts[0].to_string()],
            "activity lines are not searched"
        );
        assert_eq!(
            found("환").await,
            vec![texts[4].to_string(), texts[0].to_string()]
        );
        assert_eq!(found("환불해").await, vec![texts[0].to_string()]);
        assert_eq!(found("불해 주").await, vec![texts[0].to_string()]);
        assert_eq!(found("배송").await, vec![texts[1].to_string()]);
        assert_eq!(found("오배송 아닌").await, vec![texts[1].to_string()]);
        assert_eq!(found("refund").await, vec![texts[2].to_string()]);
        assert_eq!(found("Re").await, vec![texts[2].to_string()]);
        // Wildcards are literal.
        assert_eq!(found("0%").await, vec![texts[3].to_string()]);
        assert_eq!(found("족_아").await, vec![texts[3].to_string()]);
        assert_eq!(found("\"quoted\"").await, Vec::<String>::new());
        assert!(found("없는 말").await.is_empty());
        // Newest first.
        let both = s.search_messages("요", 50).await.unwrap();
        assert_eq!(both.len(), 2);
        assert!(both[0].id > both[1].id);

        // An erased customer's words cannot be found any more.
        s.erase_customer(c, "dpo").await.unwrap();
        assert!(found("환불해").await.is_empty());
        assert!(found("환불").await.is_empty());
    }
);

each_backend!(
    concurrent_assigners_never_exceed_a_cap_or_assign_twice,
    |s| {
        use rand::{Rng, SeedableRng, seq::SliceRandom};
        let mut agents = Vec::new();
        for i in 0..4 {
            let u = s
                .create_user(
                    &format!("a{i}@nunchi.local"),
                    &format!("A{i}"),
                    "h",
                    "agent",
                    "ko",
                )
                .await
                .unwrap();
            agents.push(u.id);
        }
        let c = person(&*s, "동시성").await;
        for seed in 0..3u64 {
            let mut conversations = Vec::new();
            for i in 0..30 {
                let (conv, _) = s
                    .create_conversation(
                        &opening(c),
                        &line(MessageDirection::Incoming, &format!("{seed}-{i}"), None),
                    )
                    .await
                    .unwrap();
                conversations.push(conv.id);
            }
            let cap = 2 + seed as i64;
            // Eight assigners race over every (conversation, agent) pair in their own order.
            let mut tasks = Vec::new();
            for worker in 0..8u64 {
                let s = s.clone();
                let mut pairs: Vec<(i64, i64)> = conversations
                    .iter()
                    .flat_map(|c| agents.iter().map(move |a| (*c, *a)))
                    .collect();
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed * 100 + worker);
                pairs.shuffle(&mut rng);
                let skip = rng.gen_range(0..3);
                tasks.push(tokio::spawn(async move {
                    let mut won = Vec::new();
                    for (conversation, agent) in pairs.into_iter().skip(skip) {
                        if s.assign_within_cap(conversation, agent, Some(cap))
                            .await
                            .unwrap()
                        {
                            won.push(conversation);
                        }
                    }
                    won
                }));
            }
            let mut wins: Vec<i64> = Vec::new();
            for t in tasks {
                wins.extend(t.await.unwrap());
            }
            let mut unique = wins.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(
                unique.len(),
                wins.len(),
                "a conversation was assigned twice"
            );
            let counts: std::collections::HashMap<i64, i64> =
                s.open_counts().await.unwrap().into_iter().collect();
            for a in &agents {
                assert!(
                    counts.get(a).copied().unwrap_or(0) <= cap,
                    "agent {a} over the cap: {counts:?}"
                );
            }
            assert_eq!(
                wins.len() as i64,
                (agents.len() as i64 * cap).min(30),
                "every free place was used"
            );
            // Resolve them all for the next round.
            for id in &conversations {
                let mut state = ConversationState {
                    status: nunchi_core::conversation::ConversationStatus::Resolved,
                    snoozed_until: None,
                    priority: Priority::Normal,
                    team_id: None,
                    assignee_id: None,
                    at: None,
                };
                state.assignee_id = s.conversation(*id).await.unwrap().assignee_id;
                s.set_conversation_state(*id, &state).await.unwrap();
            }
        }
        let last = s.availabilities().await.unwrap();
        assert_eq!(last.len(), agents.len());
        assert!(last.iter().all(|a| a.last_assigned_at.is_some()));
    }
);

each_backend!(
    lines_are_numbered_in_commit_order_and_a_client_id_is_stored_once,
    |s| {
        let c = person(&*s, "이서연").await;
        let (conv, first) = s
            .create_conversation(
                &opening(c),
                &line(MessageDirection::Incoming, "첫 줄", None),
            )
            .await
            .unwrap();
        assert_eq!((first.seq, conv.last_seq), (1, 1));
        // Writers racing on one thread still get 2, 3, … with no gap and no repeat.
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut seqs = vec![];
                    for i in 0..10 {
                        let m = line(MessageDirection::Outgoing, &format!("{w}-{i}"), None);
                        seqs.push(s.add_message(conv.id, &m).await.unwrap().seq);
                    }
                    seqs
                })
            })
            .collect();
        let mut all = vec![];
        for w in writers {
            let seqs = w.await.unwrap();
            assert!(seqs.windows(2).all(|p| p[0] < p[1]), "{seqs:?}");
            all.extend(seqs);
        }
        all.sort();
        assert_eq!(all, (2..=81).collect::<Vec<i64>>());
        let after = s.messages_after(conv.id, 79, 10).await.unwrap();
        assert_eq!(
            after.iter().map(|m| m.seq).collect::<Vec<_>>(),
            vec![80, 81]
        );
        assert_eq!(s.messages_after(conv.id, 0, 5).await.unwrap().len(), 5);
        assert_eq!(s.conversation(conv.id).await.unwrap().last_seq, 81);

        // A client's message sent twice is one line; the same client id in another
        // conversation is another message.
        let mut sent = line(MessageDirection::Incoming, "다시 보냄", None);
        sent.client_id = Some("c-1".into());
        let once = s.add_message(conv.id, &sent).await.unwrap();
        let twice = s.add_message(conv.id, &sent).await.unwrap();
        assert_eq!((once.id, once.seq), (twice.id, twice.seq));
        assert_eq!(
            s.message_by_client_id(conv.id, "c-1")
                .await
                .unwrap()
                .map(|m| m.id),
            Some(once.id)
        );
        let (other, _) = s
            .create_conversation(
                &opening(c),
                &line(MessageDirection::Incoming, "다른 대화", None),
            )
            .await
            .unwrap();
        let elsewhere = s.add_message(other.id, &sent).await.unwrap();
        assert_ne!(elsewhere.id, once.id);
        assert_eq!(elsewhere.seq, 2);
        assert!(matches!(
            s.add_message(999_999, &line(MessageDirection::Incoming, "x", None))
                .await,
            Err(StoreError::NotFound(_))
        ));
    }
);

each_backend!(
    maintained_open_counts_equal_a_recount_over_random_histories,
    |s| {
        use nunchi_core::conversation::ConversationStatus;
        use rand::{Rng, SeedableRng, seq::SliceRandom};
        let mut agents = Vec::new();
        for i in 0..3 {
            let u = s
                .create_user(
                    &format!("count{i}@nunchi.local"),
                    &format!("C{i}"),
                    "h",
                    "agent",
                    "ko",
                )
                .await
                .unwrap();
            agents.push(u.id);
        }
        let c = person(&*s, "재집계").await;
        let mut rng = rand::rngs::StdRng::seed_from_u64(19);
        let mut conversations = Vec::new();
        let statuses = [
            ConversationStatus::Open,
            ConversationStatus::Pending,
            ConversationStatus::Snoozed,
            ConversationStatus::Resolved,
        ];
        for step in 0..120 {
            if conversations.is_empty() || rng.gen_bool(0.3) {
                let (conv, _) = s
                    .create_conversation(
                        &opening(c),
                        &line(MessageDirection::Incoming, &format!("{step}"), None),
                    )
                    .await
                    .unwrap();
                conversations.push(conv.id);
            } else if rng.gen_bool(0.4) {
                let id = *conversations.choose(&mut rng).unwrap();
                let agent = *agents.choose(&mut rng).unwrap();
                s.assign_within_cap(id, agent, Some(100)).await.unwrap();
            } else {
                let id = *conversations.choose(&mut rng).unwrap();
                let status = *statuses.choose(&mut rng).unwrap();
                let assignee_id = if rng.gen_bool(0.2) {
                    None
                } else if rng.gen_bool(0.5) {
                    Some(*agents.choose(&mut rng).unwrap())
                } else {
                    s.conversation(id).await.unwrap().assignee_id
                };
                let state = ConversationState {
                    status,
                    snoozed_until: (status == ConversationStatus::Snoozed)
                        .then_some(4_102_444_800_000),
                    priority: Priority::Normal,
                    team_id: None,
                    assignee_id,
                    at: None,
                };
                s.set_conversation_state(id, &state).await.unwrap();
            }
            let mut recount: std::collections::BTreeMap<i64, i64> = Default::default();
            for id in &conversations {
                let conv = s.conversation(*id).await.unwrap();
                if let (Some(a), false) = (
                    conv.assignee_id,
                    conv.status == ConversationStatus::Resolved,
                ) {
                    *recount.entry(a).or_default() += 1;
                }
            }
            let kept: std::collections::BTreeMap<i64, i64> =
                s.open_counts().await.unwrap().into_iter().collect();
            assert_eq!(kept, recount, "after step {step}");
        }
    }
);

each_backend!(
    messenger_threads_find_the_open_conversation_and_erasure_forgets_them,
    |s| {
        use nunchi_core::conversation::MessengerKind;
        let new = |key: &str| NewMessengerChannel {
            key: key.into(),
            kind: MessengerKind::Line,
            name: "LINE".into(),
            secret: "channel-secret".into(),
            access_token: Some("token".into()),
            api_base: None,
        };
        let line_channel = s.create_messenger_channel(&new("line")).await.unwrap();
        assert_eq!(line_channel.kind, MessengerKind::Line);
        assert!(matches!(
            s.create_messenger_channel(&new("line")).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(s.messenger_channel("line").await.unwrap(), line_channel);
        assert!(matches!(
            s.messenger_channel("kakao").await,
            Err(StoreError::NotFound(_))
        ));

        let c = person(&*s, "메신저 고객").await;
        let (first, _) = s
            .create_conversation(&opening(c), &line(MessageDirection::Incoming, "1", None))
            .await
            .unwrap();
        s.link_messenger_thread(first.id, line_channel.id, "U1")
            .await
            .unwrap();
        // A second link (a redelivery) keeps the first.
        s.link_messenger_thread(first.id, line_channel.id, "U2")
            .await
            .unwrap();
        assert_eq!(
            s.messenger_thread(first.id)
                .await
                .unwrap()
                .unwrap()
                .recipient,
            "U1"
        );
        assert_eq!(
            s.open_messenger_conversation(line_channel.id, "U1")
                .await
                .unwrap(),
            Some(first.id)
        );
        assert_eq!(
            s.open_messenger_conversation(line_channel.id, "U2")
                .await
                .unwrap(),
            None
        );
        // Once resolved, the next message opens a new conversation.
        let state = ConversationState {
            status: ConversationStatus::Resolved,
            snoozed_until: None,
            priority: Priority::Normal,
            team_id: None,
            assignee_id: None,
            at: None,
        };
        s.set_conversation_state(first.id, &state).await.unwrap();
        assert_eq!(
            s.open_messenger_conversation(line_channel.id, "U1")
                .await
                .unwrap(),
            None
        );

        s.erase_customer(c, "dpo").await.unwrap();
        assert_eq!(s.messenger_thread(first.id).await.unwrap(), None);
        s.delete_messenger_channel(line_channel.id).await.unwrap();
        assert!(s.messenger_channels().await.unwrap().is_empty());
    }
);

each_backend!(attachments_keep_bytes_bind_once_and_go_with_erasure, |s| {
    let c = person(&*s, "첨부 고객").await;
    let (conv, first) = s
        .create_conversation(&opening(c), &line(MessageDirection::Incoming, "사진", None))
        .await
        .unwrap();
    let new = |message_id: Option<i64>, rejected: Option<&str>| NewAttachment {
        conversation_id: conv.id,
        message_id,
        filename: "heel.png".into(),
        content_type: "image/png".into(),
        size: 4,
        sha256: "ab".into(),
        file_path: None,
        rejected: rejected.map(str::to_string),
        uploaded_by: None,
    };
    let kept = s
        .create_attachment(&new(Some(first.id), None), Some(b"\x89PNG"))
        .await
        .unwrap();
    assert_eq!(
        s.attachment_data(kept.id).await.unwrap().as_deref(),
        Some(&b"\x89PNG"[..])
    );
    let refused = s
        .create_attachment(&new(Some(first.id), Some("type_not_allowed")), None)
        .await
        .unwrap();
    assert_eq!(s.attachment_data(refused.id).await.unwrap(), None);
    let upload = s
        .create_attachment(&new(None, None), Some(b"x"))
        .await
        .unwrap();
    let reply = s
        .add_message(conv.id, &line(MessageDirection::Outgoing, "답장", None))
        .await
        .unwrap();
    // A refused file or one already bound is not given to another message.
    assert_eq!(
        s.bind_attachments(conv.id, reply.id, &[upload.id, kept.id, refused.id])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.bind_attachments(conv.id, reply.id, &[upload.id])
            .await
            .unwrap(),
        0
    );
    let listed = s.message_attachments(&[first.id, reply.id]).await.unwrap();
    let ids: Vec<i64> = listed.iter().map(|a| a.id).collect();
    assert_eq!(ids, [kept.id, refused.id, upload.id]);
    assert_eq!(listed[2].message_id, Some(reply.id));

    s.erase_customer(c, "dpo").await.unwrap();
    assert!(
        s.message_attachments(&[first.id, reply.id])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        s.attachment(kept.id).await,
        Err(StoreError::NotFound(_))
    ));
});

each_backend!(
    mail_references_find_the_conversation_that_named_an_id,
    |s| {
        let c = person(&*s, "메일 고객").await;
        let (conv, first) = s
            .create_conversation(
                &opening(c),
                &line(MessageDirection::Incoming, "답장 먼저", Some("reply@x")),
            )
            .await
            .unwrap();
        s.add_mail_references(first.id, &["missing-root@x".into(), "parent@x".into()])
            .await
            .unwrap();
        // Again: nothing twice.
        s.add_mail_references(first.id, &["parent@x".into()])
            .await
            .unwrap();
        assert_eq!(
            s.conversation_naming(&["parent@x".into()]).await.unwrap(),
            Some(conv.id)
        );
        assert_eq!(
            s.conversation_naming(&["other@x".into(), "missing-root@x".into()])
                .await
                .unwrap(),
            Some(conv.id)
        );
        assert_eq!(
            s.conversation_naming(&["other@x".into()]).await.unwrap(),
            None
        );
        assert_eq!(s.conversation_naming(&[]).await.unwrap(), None);
        s.erase_customer(c, "dpo").await.unwrap();
        assert_eq!(
            s.conversation_naming(&["parent@x".into()]).await.unwrap(),
            None,
            "an erased customer's mail names nothing any more"
        );
    }
);
