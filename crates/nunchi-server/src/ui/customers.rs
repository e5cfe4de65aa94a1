//! The customer pages: the searchable, filterable list and the profile with identities,
//! consents, orders, notes and the paged timeline, plus merge, erase and export.

use askama::Template;
use axum::{
    Form, Json, Router,
    extract::State,
    http::header,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_core::access::Permission;
use nunchi_core::identity::IdentityKind;
use nunchi_store::model::{Customer, CustomerSummary, Note, Order, TimelineEntry};
use serde::Deserialize;

use super::{Chrome, UiNeed, UiResult, count, fmt_money, fmt_time, lang_of, render};
use nunchi_app::customers::{self, ListQuery, PageQuery};

use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    extract::{ApiPath, ApiQuery},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers", get(list))
        .route("/customers/{id}", get(profile))
        .route("/customers/{id}/notes", post(add_note))
        .route("/customers/{id}/tags", post(set_tags))
        .route("/customers/{id}/attributes", post(set_attribute))
        .route("/customers/{id}/merge", post(merge))
        .route("/customers/{id}/erase", post(erase))
        .route("/customers/{id}/export", get(export))
}

struct Row {
    id: i64,
    name: String,
    email: String,
    phone: String,
    external_id: String,
    created: String,
}

impl Row {
    fn from(c: CustomerSummary, unnamed: &str) -> Self {
        Self {
            id: c.id,
            name: c.name.unwrap_or_else(|| unnamed.to_string()),
            email: c.email.unwrap_or_default(),
            phone: c.phone.map(|p| display_phone(&p)).unwrap_or_default(),
            external_id: c.external_id.unwrap_or_default(),
            created: fmt_time(c.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "customers.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    q: String,
    tag: String,
    language: String,
    next_href: Option<String>,
    masked: bool,
    channels: Vec<(&'static str, bool)>,
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn list(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let page = customers::list_customers(&state, &auth.as_actor(), &q).await?;
    let keep = |v: &Option<String>| v.clone().unwrap_or_default();
    let next_href = page.next_cursor.map(|c| {
        format!(
            "/customers?q={}&tag={}&language={}&marketing_channel={}&cursor={}",
            enc(&keep(&q.q)),
            enc(&keep(&q.tag)),
            enc(&keep(&q.language)),
            enc(&keep(&q.marketing_channel)),
            enc(&c)
        )
    });
    let view = ListPage {
        chrome: Chrome::new(&auth, "/customers", t.nav_customers),
        rows: page
            .items
            .into_iter()
            .map(|c| Row::from(c, t.unnamed))
            .collect(),
        q: keep(&q.q),
        tag: keep(&q.tag),
        language: keep(&q.language),
        next_href,
        masked: !auth.can(Permission::ViewPii),
        channels: nunchi_core::consent::ContactChannel::ALL
            .iter()
            .map(|c| {
                (
                    c.as_str(),
                    q.marketing_channel.as_deref() == Some(c.as_str()),
                )
            })
            .collect(),
    };
    Ok(render(view))
}

/// A phone number as Korean agents write it; masked or unparsable values stay as they are.
fn display_phone(value: &str) -> String {
    nunchi_core::phone::Phone::parse(value)
        .map(|p| p.display())
        .unwrap_or_else(|_| value.to_string())
}

struct OrderView {
    external_id: String,
    placed: String,
    channel: String,
    status: String,
    total: String,
    refunded: String,
    items: String,
}

struct TimelineView {
    /// Where the entry opens, for kinds with a page of their own (conversations).
    href: Option<String>,
    kind: String,
    when: String,
    title: String,
    detail: String,
    amount: String,
}

struct FeedbackView {
    when: String,
    source: String,
    rating: String,
    sentiment: String,
    body: String,
}

/// RFM cell, probability alive, expected purchases and value, and products to offer.
struct ValueCard {
    rfm: Option<String>,
    alive: Option<String>,
    expected: Option<String>,
    clv: Option<String>,
    offer: Vec<String>,
    personal: bool,
}

struct PointsCard {
    balance: String,
    pending: String,
    tier: String,
    expiring: String,
}

struct LifeEventView {
    kind: String,
    label: String,
    date: String,
    next: String,
}

struct ConsentView {
    channel: String,
    purpose: String,
    granted: bool,
    when: String,
    source: String,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct ProfilePage {
    chrome: Chrome,
    c: Customer,
    identities: Vec<(String, String)>,
    name: String,
    created: String,
    consents: Vec<ConsentView>,
    life_events: Vec<LifeEventView>,
    orders: Vec<OrderView>,
    notes: Vec<(String, String, String)>,
    timeline: Vec<TimelineView>,
    older_href: Option<String>,
    /// Balance, pending and tier, when the program is on or they hold points.
    points: Option<PointsCard>,
    value: ValueCard,
    /// Spend per currency, first and last order, last seen.
    figures: Vec<(&'static str, String)>,
    feedback: Vec<FeedbackView>,
    /// The latest messages sent or meant for them: (when, campaign, channel, status, why).
    messages: Vec<(String, String, String, String, String)>,
    masked: bool,
    can_write: bool,
    can_merge: bool,
    can_erase: bool,
    can_export: bool,
}

fn order_view(o: &Order) -> OrderView {
    OrderView {
        external_id: o.row.external_id.clone(),
        placed: fmt_time(o.row.placed_at),
        channel: o.row.channel.to_string(),
        status: o.row.status.to_string(),
        total: fmt_money(o.row.total_minor, o.row.currency.code()),
        refunded: if o.row.refunded_minor > 0 {
            fmt_money(o.row.refunded_minor, o.row.currency.code())
        } else {
            String::new()
        },
        items: o
            .items
            .iter()
            .map(|i| format!("{} × {}", i.product, i.quantity))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// How the reader names the timeline's points and tier lines (their stored titles are an
/// entry kind and a tier key).
struct PointsNames<'a> {
    t: &'a crate::i18n::Strings,
    program: &'a nunchi_core::loyalty::Program,
    ko: bool,
}

impl PointsNames<'_> {
    fn title(&self, kind: &str, title: String) -> String {
        match kind {
            "points" => nunchi_core::loyalty::EntryKind::parse(&title)
                .map(|k| super::loyalty::kind_label(self.t, k).to_string())
                .unwrap_or(title),
            "tier" => self.tier(&title),
            _ => title,
        }
    }

    fn tier(&self, key: &str) -> String {
        nunchi_app::loyalty::tier_named(self.program, Some(key))
            .map(|t| super::loyalty::tier_name(self.ko, t))
            .unwrap_or_else(|| key.to_string())
    }
}

fn timeline_view(customer_id: i64, names: &PointsNames<'_>, e: TimelineEntry) -> TimelineView {
    let detail = if e.kind == "tier" && !e.detail.is_empty() {
        format!("← {}", names.tier(&e.detail))
    } else {
        e.detail
    };
    TimelineView {
        href: match e.kind.as_str() {
            "conversation" => Some(format!("/inbox/{}", e.ref_id)),
            "points" | "tier" => Some(format!("/customers/{customer_id}/points")),
            _ => None,
        },
        amount: match (e.amount_minor, e.currency.as_deref()) {
            (Some(m), Some(c)) => fmt_money(m, c),
            _ => String::new(),
        },
        title: names.title(&e.kind, e.title),
        kind: e.kind,
        when: fmt_time(e.at),
        detail,
    }
}

/// The profile's message log: the latest ten deliveries, suppressed ones with why.
async fn messages_of(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
) -> Result<Vec<(String, String, String, String, String)>, crate::error::AppError> {
    let lang = lang_of(auth).code();
    let deliveries = nunchi_app::campaigns::deliveries_of(state, &auth.as_actor(), id).await?;
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    let names: std::collections::HashMap<i64, String> = state
        .store
        .campaigns()
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    Ok(deliveries
        .into_iter()
        .take(10)
        .map(|d| {
            (
                fmt_time(d.sent_at.unwrap_or(d.due_at)),
                d.campaign_id
                    .and_then(|c| names.get(&c).cloned())
                    .unwrap_or_else(|| d.kind.clone()),
                d.via.unwrap_or_default(),
                d.status,
                d.reason
                    .map(|r| super::campaigns::explain_reason(&r, lang))
                    .unwrap_or_default(),
            )
        })
        .collect())
}

async fn points_card(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
) -> Result<Option<PointsCard>, crate::error::AppError> {
    let program = nunchi_app::loyalty::program(state).await?;
    let p = nunchi_app::loyalty::customer_points(state, &auth.as_actor(), id).await?;
    if !program.enabled && p.balance == 0 && p.pending == 0 && p.tier.is_none() {
        return Ok(None);
    }
    let ko = lang_of(auth) == crate::i18n::Lang::Ko;
    Ok(Some(PointsCard {
        balance: format!("{} P", count(&p.balance)),
        pending: format!("{} P", count(&p.pending)),
        expiring: format!("{} P", count(&p.expiring_soon)),
        tier: nunchi_app::loyalty::tier_named(&program, p.tier.as_deref())
            .map(|t| super::loyalty::tier_name(ko, t))
            .unwrap_or_else(|| "—".into()),
    }))
}

/// The name of an RFM cell in the reader's language.
pub fn rfm_cell_name(t: &crate::i18n::Strings, key: &str) -> &'static str {
    match key {
        "champions" => t.rfm_champions,
        "loyal" => t.rfm_loyal,
        "potential_loyalists" => t.rfm_potential_loyalists,
        "new_customers" => t.rfm_new_customers,
        "promising" => t.rfm_promising,
        "need_attention" => t.rfm_need_attention,
        "about_to_sleep" => t.rfm_about_to_sleep,
        "at_risk" => t.rfm_at_risk,
        "cant_lose" => t.rfm_cant_lose,
        "hibernating" => t.rfm_hibernating,
        _ => t.rfm_lost,
    }
}

async fn value_card(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
) -> Result<ValueCard, crate::error::AppError> {
    let t = lang_of(auth).strings();
    let actor = auth.as_actor();
    let v = nunchi_app::customer_models::customer_value(state, &actor, id).await?;
    let offer = nunchi_app::customer_models::customer_recommendations(state, &actor, id, 5).await?;
    Ok(ValueCard {
        rfm: v
            .rfm
            .map(|r| format!("{} · R{} F{} M{}", rfm_cell_name(t, &r.cell), r.r, r.f, r.m)),
        alive: v.probability_alive.map(|p| format!("{:.0}%", p * 100.0)),
        expected: v.expected_purchases.map(|e| format!("{e:.1}")),
        clv: v.clv.map(|value| super::fmt_major(value, &v.currency)),
        offer: offer.products,
        personal: offer.personal,
    })
}

async fn profile(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let mut c = state.store.customer(id).await?;
    let masked = !auth.can(Permission::ViewPii);
    if masked {
        nunchi_app::privacy::mask_customer(&mut c);
    }
    let today = jiff::Zoned::now().date();
    let timeline = customers::timeline_page(
        &state,
        &auth.as_actor(),
        id,
        &PageQuery {
            cursor: q.cursor.clone(),
            limit: Some(20),
        },
    )
    .await?;
    let notes: Vec<Note> = state.store.notes(id).await?;
    let orders = state.store.orders_of(id).await?;
    let points = points_card(&state, &auth, id).await?;
    let value = value_card(&state, &auth, id).await?;
    let messages = messages_of(&state, &auth, id).await?;
    let program = nunchi_app::loyalty::program(&state).await?;
    let names = PointsNames {
        t,
        program: &program,
        ko: lang_of(&auth) == crate::i18n::Lang::Ko,
    };
    let activity = nunchi_app::customer_activity::activity(&state, &auth.as_actor(), id).await?;
    let day = |ms: i64| fmt_time(ms)[..10].to_string();
    let mut figures: Vec<(&'static str, String)> = activity
        .spend
        .iter()
        .flat_map(|s| {
            [
                (
                    t.cust_spend,
                    format!(
                        "{} · {} {}",
                        fmt_money(s.net_minor, &s.currency),
                        count(&s.orders),
                        t.cust_orders_unit
                    ),
                ),
                (t.cust_aov, fmt_money(s.average_minor, &s.currency)),
            ]
        })
        .collect();
    if let Some(at) = activity.last_order_at {
        figures.push((t.cust_last_order, day(at)));
    }
    if let Some(at) = activity.last_seen_at {
        figures.push((t.cust_last_seen, fmt_time(at)));
    }
    let feedback = activity
        .feedback
        .iter()
        .map(|f| FeedbackView {
            when: day(f.created_at),
            source: f.source.to_string(),
            rating: f.rating_label().unwrap_or_default(),
            sentiment: f.sentiment_label.clone().unwrap_or_default(),
            body: f.body.clone(),
        })
        .collect();
    let view = ProfilePage {
        chrome: Chrome::new(
            &auth,
            "/customers",
            c.row.name.as_deref().unwrap_or(t.unnamed),
        ),
        identities: c
            .identities
            .iter()
            .map(|i| {
                (
                    i.kind.to_string(),
                    if i.kind == IdentityKind::Phone {
                        display_phone(&i.value)
                    } else {
                        i.value.clone()
                    },
                )
            })
            .collect(),
        name: c.row.name.clone().unwrap_or_else(|| t.unnamed.to_string()),
        created: fmt_time(c.row.created_at),
        consents: c
            .consents
            .iter()
            .map(|k| ConsentView {
                channel: k.channel.to_string(),
                purpose: k.purpose.to_string(),
                granted: k.granted,
                when: fmt_time(k.at),
                source: k.source.clone(),
            })
            .collect(),
        life_events: c
            .life_events
            .iter()
            .map(|e| LifeEventView {
                kind: e.kind.to_string(),
                label: e.label.clone(),
                date: e.date.clone(),
                next: nunchi_core::life_event::parse_date(&e.date)
                    .ok()
                    .filter(|_| e.recurring)
                    .map(|d| nunchi_core::life_event::next_occurrence(d, today).to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        orders: orders.iter().map(order_view).collect(),
        notes: notes
            .into_iter()
            .map(|n| (n.author_name, fmt_time(n.created_at), n.body))
            .collect(),
        timeline: timeline
            .items
            .into_iter()
            .map(|e| timeline_view(id, &names, e))
            .collect(),
        points,
        value,
        figures,
        feedback,
        messages,
        older_href: timeline
            .next_cursor
            .map(|cur| format!("/customers/{id}?cursor={}#timeline", enc(&cur))),
        masked,
        can_write: auth.can(Permission::CustomersWrite)
            && c.row.merged_into.is_none()
            && c.row.erased_at.is_none(),
        can_merge: auth.can(Permission::CustomersMerge)
            && c.row.merged_into.is_none()
            && c.row.erased_at.is_none(),
        can_erase: auth.can(Permission::CustomersErase)
            && c.row.erased_at.is_none()
            && c.row.merged_into.is_none(),
        can_export: auth.can(Permission::DataExport),
        c,
    };
    Ok(render(view))
}

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    csrf: String,
    body: String,
}

async fn add_note(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<NoteForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    state
        .store
        .add_note(
            id,
            Some(auth.user.id),
            &auth.user.name,
            customers::check_note(&f.body)?,
        )
        .await?;
    Ok(Redirect::to(&format!("/customers/{id}#notes")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct TagsForm {
    csrf: String,
    #[serde(default)]
    tags: String,
}

async fn set_tags(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<TagsForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let tags: Vec<String> = f.tags.split(',').map(str::to_string).collect();
    customers::set_tags(&state, &auth.as_actor(), id, &tags).await?;
    Ok(Redirect::to(&format!("/customers/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct AttributeForm {
    csrf: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
}

async fn set_attribute(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<AttributeForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    customers::set_attribute(&state, &auth.as_actor(), id, &f.key, &f.value).await?;
    Ok(Redirect::to(&format!("/customers/{id}#attributes")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct MergeForm {
    csrf: String,
    source_id: i64,
}

async fn merge(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersMerge>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<MergeForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    customers::merge(&state, &auth.as_actor(), f.source_id, id).await?;
    Ok(Redirect::to(&format!("/customers/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

async fn erase(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersErase>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfOnly>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    customers::erase(&state, &auth.as_actor(), id).await?;
    Ok(Redirect::to(&format!("/customers/{id}")).into_response())
}

async fn export(
    State(state): State<AppState>,
    auth: UiNeed<perm::DataExport>,
    ApiPath(id): ApiPath<i64>,
) -> UiResult {
    let export = customers::export(&state, &auth.as_actor(), id).await?;
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"customer-{id}.json\""),
        )],
        Json(export),
    )
        .into_response())
}
