//! Outbound webhooks, signed as the Standard Webhooks specification says: a `whsec_`
//! secret, the headers `webhook-id`, `webhook-timestamp` and `webhook-signature`
//! (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`). Deliveries are jobs, so a
//! receiver that is down gets the message later, with backoff.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use nunchi_store::model::{NewJob, Webhook};
use rand::RngCore;
use sha2::Sha256;

use crate::jobs::Job;

/// Every event type a webhook may subscribe to.
pub const EVENTS: [&str; 4] = [
    "feedback.created",
    "follow_up.opened",
    "root_cause.fixed",
    "conversation.sla_breached",
];
/// Deliveries are tried this many times (backoff 2 s … 256 s).
pub const MAX_ATTEMPTS: i64 = 8;

/// An address nunchi posts to (a webhook, a messenger's reply URL): `http://` or
/// `https://`, parseable, at most 2,000 characters.
pub fn checked_url(url: &str) -> crate::Result<String> {
    let url = url.trim();
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 2_000
        && url::Url::parse(url).is_ok();
    if ok {
        Ok(url.to_string())
    } else {
        Err(crate::Error::invalid(
            "invalid_url",
            "the URL must be a valid http:// or https:// address",
        ))
    }
}

pub fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

/// The `webhook-signature` header value for one message.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> anyhow::Result<String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| anyhow::anyhow!("the webhook secret is not base64"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)?;
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The message body: `{"type", "timestamp", "data"}`.
pub fn body(event: &str, at_ms: i64, data: serde_json::Value) -> String {
    let timestamp = jiff::Timestamp::from_millisecond(at_ms)
        .map(|t| t.to_string())
        .unwrap_or_default();
    serde_json::json!({ "type": event, "timestamp": timestamp, "data": data }).to_string()
}

/// A delivery job for every active webhook that wants `event`.
pub fn jobs_for(
    hooks: &[Webhook],
    event: &str,
    msg_id: &str,
    data: &serde_json::Value,
    follow_up: Option<i64>,
    now: i64,
) -> Vec<NewJob> {
    hooks
        .iter()
        .filter(|h| h.wants(event))
        .map(|h| {
            WebhookJob {
                webhook_id: h.id,
                msg_id: format!("msg_{msg_id}_{}", h.id),
                body: body(event, now, data.clone()),
                follow_up,
            }
            .row(now)
        })
        .collect()
}

/// Posts one message; any status but 2xx is a failure to retry.
pub async fn deliver(
    client: &reqwest::Client,
    hook: &Webhook,
    msg_id: &str,
    body: String,
    now_ms: i64,
) -> anyhow::Result<()> {
    post_signed(client, &hook.url, &hook.secret, msg_id, body, now_ms).await
}

/// Posts a body signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`) to any receiver: subscribers and message providers alike.
pub async fn post_signed(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    msg_id: &str,
    body: String,
    now_ms: i64,
) -> anyhow::Result<()> {
    let timestamp = now_ms / 1000;
    let signature = sign(secret, msg_id, timestamp, &body)?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await?;
    if !response.status().is_success() {
        anyhow::bail!("{url} answered {}", response.status());
    }
    Ok(())
}

/// One signed webhook delivery as a background job. For `follow_up.opened`, `follow_up`
/// names the (feedback, rule) whose follow-up id is added to the data when it is sent.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WebhookJob {
    pub webhook_id: i64,
    pub msg_id: String,
    pub body: String,
    /// The feedback whose follow-up the delivery announces (its id is added on delivery).
    /// Jobs queued before one follow-up per feedback carried `(feedback, rule)`.
    #[serde(default, deserialize_with = "feedback_of_follow_up")]
    pub follow_up: Option<i64>,
}

/// Reads `follow_up` as a feedback id, or as the `(feedback, rule)` pair of jobs queued
/// by earlier versions (still waiting in the jobs table after an upgrade).
fn feedback_of_follow_up<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Either {
        Feedback(i64),
        FeedbackAndRule(i64, #[allow(dead_code)] i64),
    }
    Ok(
        <Option<Either> as serde::Deserialize>::deserialize(d)?.map(|e| match e {
            Either::Feedback(f) | Either::FeedbackAndRule(f, _) => f,
        }),
    )
}

impl Job for WebhookJob {
    const KIND: &'static str = "webhook";
    const MAX_ATTEMPTS: i64 = MAX_ATTEMPTS;

    async fn run(self, app: &crate::App) -> anyhow::Result<String> {
        let hook = match app.store.webhook(self.webhook_id).await {
            Ok(h) => h,
            Err(nunchi_store::StoreError::NotFound(_)) => {
                return Ok(r#"{"skipped":"the webhook was deleted"}"#.into());
            }
            Err(e) => return Err(e.into()),
        };
        let mut body = self.body;
        if let Some(feedback_id) = self.follow_up {
            let f = app.store.follow_up_for(feedback_id).await?;
            let mut value: serde_json::Value = serde_json::from_str(&body)?;
            value["data"]["follow_up_id"] = f.id.into();
            body = value.to_string();
        }
        deliver(&app.http, &hook, &self.msg_id, body, app.now()).await?;
        Ok(serde_json::json!({ "delivered_to": hook.url }).to_string())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example in the Standard Webhooks specification.
        let sig = super::sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
