//! The demo brand's messenger conversations answer through its demo LINE account, and a
//! reply there says plainly that a real channel must be connected, without a retry.

use std::sync::Arc;

use nunchi_app::jobs::Job;
use nunchi_core::conversation::ConversationChannel;
use nunchi_store::model::ConversationFilter;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_messenger_conversations_have_a_channel_that_says_it_is_not_connected() {
    let dir = tempfile::tempdir().unwrap();
    let store = nunchi_store::connect(&format!("sqlite:{}", dir.path().join("d.db").display()))
        .await
        .unwrap();
    nunchi_app::demo::load(&store, 150, 7, &nunchi_app::demo::Quiet)
        .await
        .unwrap();
    let app = Arc::new(nunchi_app::App::offline(
        store.clone(),
        nunchi_app::AppConfig::for_tests(dir.path().to_path_buf()),
    ));
    let channels = store.messenger_channels().await.unwrap();
    assert_eq!(channels.len(), 1, "{channels:?}");
    let all = store
        .conversations(&ConversationFilter {
            limit: 1_000,
            ..Default::default()
        })
        .await
        .unwrap();
    let by_messenger: Vec<_> = all
        .iter()
        .filter(|c| c.channel == ConversationChannel::Messenger)
        .collect();
    assert!(
        !by_messenger.is_empty(),
        "the demo has messenger conversations"
    );
    for c in &by_messenger {
        let thread = store.messenger_thread(c.id).await.unwrap();
        assert_eq!(thread.map(|t| t.channel_id), Some(channels[0].id), "{c:?}");
    }

    let reply = nunchi_app::conversations::post_message(
        &app,
        &nunchi_app::Actor::operator(),
        by_messenger[0].id,
        &nunchi_app::conversations::MessageInput {
            text: "확인해 보겠습니다.".into(),
            note: false,
            client_id: None,
            attachment_ids: vec![],
        },
    )
    .await
    .unwrap();
    assert_eq!(reply.delivery.as_deref(), Some("queued"));
    let outcome = nunchi_app::messengers::ReplyJob {
        message_id: reply.id,
    }
    .run(&app)
    .await;
    assert!(outcome.is_ok(), "not retried: {outcome:?}");
    let after = store.message(reply.id).await.unwrap();
    assert_eq!(after.delivery.as_deref(), Some("failed"));
    assert!(
        after
            .delivery_error
            .as_deref()
            .unwrap()
            .contains("access token"),
        "{after:?}"
    );
}
