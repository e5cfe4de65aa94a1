//! Customer 360 over JSON: create, read, update, look up by identity, search, list, notes,
//! timeline, consents, life events, merge, erase and the subject-access export.

use std::collections::BTreeMap;

use axum::{Json, http::StatusCode};
use nunchi_core::{
    access::Permission,
    consent::{Consent, ContactChannel, Purpose},
    customer::{
        AttributeType, CustomerName, Language, ProfileFields, Tag, TimeZoneName,
        parse_attribute_key,
    },
    email::Email,
    identity::Identity,
    import::CustomerRecord,
    life_event::{LifeEventKind, parse_date},
    phone::Phone,
    search::normalise_query,
    time::Millis,
};
use nunchi_store::model::{Customer, CustomerExport, CustomerSummary, Note, Order};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use nunchi_app::paging::limit;
use nunchi_app::privacy::{mask_customer, mask_summary};

use nunchi_app::customers::{self, CustomerPage, ListQuery, PageQuery, TimelinePage};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
};

/// Routes and their OpenAPI operations, both from each handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(lookup))
        .routes(routes!(search))
        .routes(routes!(read, update, erase))
        .routes(routes!(add_identity))
        .routes(routes!(remove_identity))
        .routes(routes!(record_consent))
        .routes(routes!(set_life_event))
        .routes(routes!(notes, add_note))
        .routes(routes!(timeline))
        .routes(routes!(orders))
        .routes(routes!(activity))
        .routes(routes!(merge))
        .routes(routes!(export))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IdentityInput {
    /// `email`, `phone`, `external_id`, `anonymous_id`, `device_id`, `kakao`, `line`, `telegram`, `messenger`.
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ConsentInput {
    /// `email`, `sms`, `push`, `kakao`, `line`, `phone`.
    pub channel: String,
    /// `marketing` or `night_ads` (21:00–08:00).
    pub purpose: String,
    pub granted: bool,
    /// Where the answer was given: `signup_form`, `store_kiosk`, …; `api` if left out.
    pub source: Option<String>,
    /// When it was given (RFC 3339); now if left out.
    pub at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LifeEventInput {
    /// `birthday`, `wedding_anniversary`, `membership` or `custom`.
    pub kind: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub label: String,
    #[serde(default = "yes")]
    pub recurring: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub preferred_channel: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub identities: Vec<IdentityInput>,
    /// Custom attributes: strings, numbers or booleans; dates as `YYYY-MM-DD` strings.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub consents: Vec<ConsentInput>,
    #[serde(default)]
    pub life_events: Vec<LifeEventInput>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub preferred_channel: Option<String>,
    /// Replaces all tags when present.
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, serde_json::Value>,
}

fn profile_fields(
    name: Option<&str>,
    language: Option<&str>,
    tz: Option<&str>,
    channel: Option<&str>,
) -> AppResult<ProfileFields> {
    Ok(ProfileFields {
        name: name.map(CustomerName::parse).transpose()?,
        language: language.map(Language::parse).transpose()?,
        time_zone: tz.map(TimeZoneName::parse).transpose()?,
        preferred_channel: channel.map(ContactChannel::parse).transpose()?,
    })
}

fn parse_consent(c: &ConsentInput, now: i64) -> AppResult<Consent> {
    Ok(Consent {
        channel: ContactChannel::parse(&c.channel)?,
        purpose: Purpose::parse(&c.purpose)?,
        granted: c.granted,
        at: c
            .at
            .as_deref()
            .map(Millis::parse)
            .transpose()?
            .unwrap_or(Millis(now)),
        source: c
            .source
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "api".into()),
    })
}

/// Checks attributes against their declared types (or infers a type for new keys).
async fn parse_attributes(
    state: &AppState,
    attrs: &BTreeMap<String, serde_json::Value>,
) -> AppResult<Vec<(String, AttributeType, String)>> {
    let mut out = Vec::with_capacity(attrs.len());
    for (key, value) in attrs {
        let key = parse_attribute_key(key)?;
        let (raw, inferred) = match value {
            serde_json::Value::String(s) => (s.clone(), AttributeType::infer(s)),
            serde_json::Value::Number(n) => (n.to_string(), AttributeType::Number),
            serde_json::Value::Bool(b) => (b.to_string(), AttributeType::Bool),
            _ => {
                return Err(AppError::bad_request(
                    "invalid_attributes",
                    format!("{key}: use a string, number or boolean"),
                ));
            }
        };
        let ty = state.store.attribute_type(&key).await?.unwrap_or(inferred);
        out.push((key.clone(), ty, ty.canonical(&key, &raw)?));
    }
    Ok(out)
}

/// The customer as this caller may see it.
async fn visible(state: &AppState, auth: &Auth, id: i64) -> AppResult<Customer> {
    let mut c = state.store.customer(id).await?;
    if !auth.can(Permission::ViewPii) {
        mask_customer(&mut c);
    }
    Ok(c)
}

#[utoipa::path(post, path = "/api/v1/customers", security(("bearer" = ["customers_write"])), tag = "customers", request_body = CustomerInput,
    responses((status = 201, body = Customer), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiJson(input): ApiJson<CustomerInput>,
) -> AppResult<(StatusCode, Json<Customer>)> {
    let record = CustomerRecord {
        external_id: input
            .external_id
            .as_deref()
            .map(|x| Identity::parse("external_id", x).map(|i| i.value))
            .transpose()?,
        profile: profile_fields(
            input.name.as_deref(),
            input.language.as_deref(),
            input.time_zone.as_deref(),
            input.preferred_channel.as_deref(),
        )?,
        email: input.email.as_deref().map(Email::parse).transpose()?,
        phone: input.phone.as_deref().map(Phone::parse).transpose()?,
        tags: input
            .tags
            .iter()
            .map(|t| Tag::parse(t))
            .collect::<Result<_, _>>()?,
        consents: vec![],
        life_events: input
            .life_events
            .iter()
            .filter(|e| e.label.is_empty() && e.recurring)
            .map(|e| Ok((LifeEventKind::parse(&e.kind)?, parse_date(&e.date)?)))
            .collect::<Result<_, nunchi_core::CoreError>>()?,
        attributes: parse_attributes(&state, &input.attributes).await?,
        created_at: None,
    };
    let extra: Vec<Identity> = input
        .identities
        .iter()
        .map(|i| Identity::parse(&i.kind, &i.value))
        .collect::<Result<_, _>>()?;
    let consents: Vec<Consent> = input
        .consents
        .iter()
        .map(|c| parse_consent(c, state.now()))
        .collect::<AppResult<_>>()?;
    let labelled: Vec<&LifeEventInput> = input
        .life_events
        .iter()
        .filter(|e| !(e.label.is_empty() && e.recurring))
        .collect();
    for e in &labelled {
        LifeEventKind::parse(&e.kind)?;
        parse_date(&e.date)?;
    }
    let id = state
        .store
        .create_customer(&record, &extra, &auth.actor())
        .await?;
    for c in &consents {
        state.store.record_consent(id, c).await?;
    }
    for e in labelled {
        state
            .store
            .set_life_event(
                id,
                LifeEventKind::parse(&e.kind)?,
                &e.label,
                &parse_date(&e.date)?.to_string(),
                e.recurring,
            )
            .await?;
    }
    state.touched([id]);
    Ok((StatusCode::CREATED, Json(visible(&state, &auth, id).await?)))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}", security(("bearer" = ["customers_read"])), tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = Customer), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Customer>> {
    Ok(Json(visible(&state, &auth, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/customers/{id}", security(("bearer" = ["customers_write"])), tag = "customers", params(("id" = i64, Path)), request_body = CustomerPatch,
    responses((status = 200, body = Customer), (status = 400, body = crate::error::ErrorBody)))]
pub async fn update(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<CustomerPatch>,
) -> AppResult<Json<Customer>> {
    let fields = profile_fields(
        p.name.as_deref(),
        p.language.as_deref(),
        p.time_zone.as_deref(),
        p.preferred_channel.as_deref(),
    )?;
    if let Some(tags) = &p.tags {
        for t in tags {
            Tag::parse(t)?;
        }
    }
    let attrs = parse_attributes(&state, &p.attributes).await?;
    state.store.update_profile(id, &fields).await?;
    if let Some(tags) = &p.tags {
        nunchi_app::customers::set_tags(&state, &auth.as_actor(), id, tags).await?;
    }
    for (key, ty, value) in attrs {
        state.store.set_attribute(id, &key, ty, &value).await?;
    }
    state.touched([id]);
    Ok(Json(visible(&state, &auth, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    pub kind: String,
    pub value: String,
}

#[utoipa::path(get, path = "/api/v1/customers/lookup", security(("bearer" = ["customers_read"])), tag = "customers", params(LookupQuery),
    responses((status = 200, body = Customer), (status = 404, body = crate::error::ErrorBody)))]
pub async fn lookup(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiQuery(q): ApiQuery<LookupQuery>,
) -> AppResult<Json<Customer>> {
    let identity = Identity::parse(&q.kind, &q.value)?;
    let id = state
        .store
        .find_by_identity(&identity)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no customer with {} {}", q.kind, q.value)))?;
    Ok(Json(visible(&state, &auth, id).await?))
}

#[utoipa::path(get, path = "/api/v1/customers", security(("bearer" = ["customers_read"])), tag = "customers", params(ListQuery), responses((status = 200, body = CustomerPage)))]
pub async fn list(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<CustomerPage>> {
    Ok(Json(
        customers::list_customers(&state, &auth.as_actor(), &q).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    pub q: String,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/search", security(("bearer" = ["customers_read"])), tag = "customers", params(SearchQuery), responses((status = 200, body = Vec<CustomerSummary>)))]
pub async fn search(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> AppResult<Json<Vec<CustomerSummary>>> {
    let mut hits = state
        .store
        .search_customers(&normalise_query(&q.q), limit(q.limit.or(Some(20)))?)
        .await?;
    if !auth.can(Permission::ViewPii) {
        hits.iter_mut().for_each(mask_summary);
    }
    Ok(Json(hits))
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/identities", security(("bearer" = ["customers_write"])), tag = "customers", params(("id" = i64, Path)), request_body = IdentityInput,
    responses((status = 200, body = Customer), (status = 409, body = crate::error::ErrorBody)))]
pub async fn add_identity(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<IdentityInput>,
) -> AppResult<Json<Customer>> {
    state
        .store
        .add_identity(
            id,
            &Identity::parse(&input.kind, &input.value)?,
            &auth.actor(),
        )
        .await?;
    Ok(Json(visible(&state, &auth, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/customers/{id}/identities/{kind}/{value}", security(("bearer" = ["customers_write"])), tag = "customers",
    params(("id" = i64, Path), ("kind" = String, Path), ("value" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn remove_identity(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath((id, kind, value)): ApiPath<(i64, String, String)>,
) -> AppResult<StatusCode> {
    state
        .store
        .remove_identity(id, &Identity::parse(&kind, &value)?, &auth.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/consents", security(("bearer" = ["customers_write"])), tag = "customers", params(("id" = i64, Path)), request_body = ConsentInput, responses((status = 200, body = Customer)))]
pub async fn record_consent(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ConsentInput>,
) -> AppResult<Json<Customer>> {
    state
        .store
        .record_consent(id, &parse_consent(&input, state.now())?)
        .await?;
    state.touched([id]);
    Ok(Json(visible(&state, &auth, id).await?))
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/life-events", security(("bearer" = ["customers_write"])), tag = "customers", params(("id" = i64, Path)), request_body = LifeEventInput, responses((status = 200, body = Customer)))]
pub async fn set_life_event(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(e): ApiJson<LifeEventInput>,
) -> AppResult<Json<Customer>> {
    if e.label.chars().count() > 100 {
        return Err(AppError::bad_request(
            "invalid_label",
            "labels have at most 100 characters",
        ));
    }
    state
        .store
        .set_life_event(
            id,
            LifeEventKind::parse(&e.kind)?,
            e.label.trim(),
            &parse_date(&e.date)?.to_string(),
            e.recurring,
        )
        .await?;
    Ok(Json(visible(&state, &auth, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NoteInput {
    pub body: String,
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/notes", security(("bearer" = ["customers_write"])), tag = "customers", params(("id" = i64, Path)), request_body = NoteInput, responses((status = 201, body = Note)))]
pub async fn add_note(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NoteInput>,
) -> AppResult<(StatusCode, Json<Note>)> {
    let note = state
        .store
        .add_note(
            id,
            Some(auth.user.id),
            &auth.user.name,
            customers::check_note(&input.body)?,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(note)))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/notes", security(("bearer" = ["customers_read"])), tag = "customers", params(("id" = i64, Path)), responses((status = 200, body = Vec<Note>)))]
pub async fn notes(
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<Note>>> {
    Ok(Json(state.store.notes(id).await?))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/timeline", security(("bearer" = ["customers_read"])), tag = "customers", params(("id" = i64, Path), PageQuery), responses((status = 200, body = TimelinePage)))]
pub async fn timeline(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<TimelinePage>> {
    state.store.customer(id).await?;
    Ok(Json(
        customers::timeline_page(&state, &auth.as_actor(), id, &q).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/orders", security(("bearer" = ["customers_read"])), tag = "orders", params(("id" = i64, Path)), responses((status = 200, body = Vec<Order>)))]
pub async fn orders(
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<Order>>> {
    Ok(Json(state.store.orders_of(id).await?))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/activity", security(("bearer" = ["customers_read"])), tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = nunchi_app::customer_activity::CustomerActivity, description = "Their recent feedback, spend per currency and when they were last seen")))]
pub async fn activity(
    auth: crate::auth::Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<nunchi_app::customer_activity::CustomerActivity>> {
    Ok(Json(
        nunchi_app::customer_activity::activity(&state, &auth.as_actor(), id).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MergeInput {
    /// The duplicate to fold into this customer; it remains as a tombstone pointing here.
    pub source_id: i64,
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/merge", security(("bearer" = ["customers_merge"])), tag = "customers", params(("id" = i64, Path)), request_body = MergeInput,
    responses((status = 200, body = Customer), (status = 409, body = crate::error::ErrorBody)))]
pub async fn merge(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MergeInput>,
) -> AppResult<Json<Customer>> {
    customers::merge(&state, &auth.as_actor(), input.source_id, id).await?;
    Ok(Json(visible(&state, &auth, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/customers/{id}", security(("bearer" = ["customers_erase"])), tag = "customers", params(("id" = i64, Path)),
    description = "Erases the customer's personal data (right to be forgotten); anonymised orders remain for aggregates.",
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn erase(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    customers::erase(&state, &auth.as_actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/export", security(("bearer" = ["data_export"])), operation_id = "export_customer", tag = "customers", params(("id" = i64, Path)), responses((status = 200, body = CustomerExport)))]
pub async fn export(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<CustomerExport>> {
    Ok(Json(customers::export(&state, &auth.as_actor(), id).await?))
}
