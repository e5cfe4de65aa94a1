//! The demo brand's campaigns, as drafts a team would review before launching: a
//! cart-abandonment reminder (an hour after `add_to_cart`, unless they bought), a wedding
//! anniversary note 30 days ahead, a Teachers' Day (스승의 날) message to the teachers
//! segment, and a Chuseok greeting.

use std::sync::Arc;

use nunchi_store::{
    Store,
    model::{NewCampaign, NewSegment},
};
use serde_json::json;

const TEACHERS: &str = "교사 · Teachers";

/// Saves the demo campaigns (and the teachers segment) that are not there yet.
pub async fn load(store: &Arc<dyn Store>) -> anyhow::Result<usize> {
    let segments = store.segments().await?;
    let teachers = match segments.iter().find(|s| s.name == TEACHERS) {
        Some(s) => s.id,
        None => {
            store
                .create_segment(&NewSegment {
                    name: TEACHERS.into(),
                    description: "교사 태그 고객 · Customers tagged 교사 (teacher)".into(),
                    kind: "live".into(),
                    rule: r#"{"type": "tag", "tag": "교사"}"#.into(),
                    created_by: "demo".into(),
                })
                .await?
        }
    };
    let have: Vec<String> = store
        .campaigns()
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect();
    let campaigns = [
        (
            "장바구니 알림 · Cart reminder",
            "service",
            json!({"type": "event", "event": "add_to_cart", "delay_minutes": 60, "unless": "purchase"}),
            None,
            "kakao_alimtalk,sms,email",
            json!({
                "ko": {"subject": "장바구니를 확인해 주세요", "body": "{{name}}님, 장바구니에 담아 두신 상품이 기다리고 있어요."},
                "en": {"subject": "Your cart is waiting", "body": "Hi {{name}}, the items in your cart are still waiting for you."}
            }),
            Some("purchase"),
        ),
        (
            "결혼기념일 축하 · Anniversary",
            "marketing",
            json!({"type": "life_event", "kind": "wedding_anniversary", "days_before": 30, "hour": 10}),
            None,
            "kakao_brand,email",
            json!({
                "ko": {"subject": "(광고) 하늘결 결혼기념일 선물 제안", "body": "{{name}}님, 곧 결혼기념일이에요. 함께 쓰기 좋은 {{recommendations}}을(를) 준비했어요.\n문의 {{brand_contact}}\n무료수신거부 {{unsubscribe_url}}"},
                "en": {"subject": "(광고) 하늘결 anniversary gifts", "body": "Hi {{name}}, your anniversary is coming. We picked {{recommendations}} for you both.\nContact {{brand_contact}}\nUnsubscribe: {{unsubscribe_url}}"}
            }),
            Some("purchase"),
        ),
        (
            "스승의 날 · Teachers' Day",
            "marketing",
            json!({"type": "date", "month": 5, "day": 15, "hour": 9}),
            Some(teachers),
            "email",
            json!({
                "ko": {"subject": "(광고) 하늘결 스승의 날 감사 쿠폰", "body": "{{name}} 선생님, 늘 감사합니다. 스승의 날을 맞아 작은 선물을 준비했어요.\n문의 {{brand_contact}}\n무료수신거부 {{unsubscribe_url}}"}
            }),
            Some("purchase"),
        ),
        (
            "추석 인사 · Chuseok greeting",
            "service",
            json!({"type": "holiday", "holiday": "추석", "days_before": 3, "hour": 10}),
            None,
            "kakao_alimtalk,email",
            json!({
                "ko": {"subject": "풍성한 한가위 보내세요", "body": "{{name}}님, 풍성한 한가위 보내세요. 연휴 배송 일정을 확인해 주세요."},
                "en": {"subject": "Happy Chuseok", "body": "Hi {{name}}, happy Chuseok. Please check our holiday delivery schedule."}
            }),
            None,
        ),
    ];
    let mut added = 0;
    for (name, kind, trigger, segment, channels, templates, goal) in campaigns {
        if have.iter().any(|h| h == name) {
            continue;
        }
        store
            .create_campaign(
                &NewCampaign {
                    name: name.into(),
                    kind: "programme".into(),
                    message_kind: kind.into(),
                    trigger_spec: trigger.to_string(),
                    segment_id: segment,
                    channels: channels.into(),
                    priority: 0,
                    dedup_key: None,
                    templates: templates.to_string(),
                    holdout_pct: 10,
                    goal_event: goal.map(str::to_string),
                    goal_days: 7,
                },
                "demo",
            )
            .await?;
        added += 1;
    }
    Ok(added)
}
