//! The server-rendered web UI: askama templates, one page struct per template, every
//! string from the Korean or English table. Forms carry the session's CSRF token; the
//! only JavaScript is progressive enhancement.

mod admin;
mod analytics;
mod campaigns;
mod csat_page;
mod customer_value;
mod customers;
mod dashboard;
mod data;
mod follow_ups;
mod inbox;
mod inbox_files;
mod inbox_live;
mod loyalty;
mod loyalty_ledger;
mod messenger_channels;
mod personas;
mod segments;
mod signin;
mod sla;
mod support_reports;
mod survey_page;
pub mod surveys;
mod unsubscribe_page;
mod voc;

pub use nunchi_charts as charts;

use askama::Template;
use axum::{
    Router,
    extract::FromRequestParts,
    http::request::Parts,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use nunchi_core::access::Permission;

use crate::{
    AppState,
    auth::{Auth, Requirement, authenticate},
    error::AppError,
    i18n::{Lang, Strings},
};

pub fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
        // Browsers ask for /favicon.ico on every page; both paths serve the SVG icon.
        .route("/favicon.ico", get(favicon))
        .route("/favicon.svg", get(favicon))
        .route("/widget.js", get(widget_js))
        .merge(signin::routes())
        .merge(dashboard::routes())
        .merge(customers::routes())
        .merge(customer_value::routes())
        .merge(segments::routes())
        .merge(personas::routes())
        .merge(data::routes())
        .merge(admin::routes())
        .merge(analytics::routes())
        .merge(voc::routes())
        .merge(surveys::routes())
        .merge(survey_page::routes())
        .merge(csat_page::routes())
        .merge(unsubscribe_page::routes())
        .merge(campaigns::routes())
        .merge(follow_ups::routes())
        .merge(inbox::routes())
        .merge(inbox_live::routes())
        .merge(sla::routes())
        .merge(messenger_channels::routes())
        .merge(inbox_files::routes())
        .merge(support_reports::routes())
        .merge(loyalty::routes())
        .merge(loyalty_ledger::routes());
    for (path, _) in NOT_BUILT {
        router = router.route(path, get(not_built));
    }
    router
}

/// Capabilities from PRODUCT.md that have a place in the navigation but no page yet.
type LabelOf = fn(&Strings) -> &'static str;

const NOT_BUILT: &[(&str, LabelOf)] = &[("/insights", |t| t.nav_insights)];

#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// A group of the navigation (listen, understand, act, measure, admin): a menu of links.
#[derive(Debug, Clone)]
pub struct NavGroup {
    pub label: &'static str,
    pub items: Vec<NavItem>,
    /// It holds the page shown.
    pub active: bool,
}

/// A form that carries only its CSRF token (a delete, a sign-out, a revoke). A missing
/// token reads as empty, so the CSRF check refuses it like a wrong one.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// What the layout needs on every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub t: &'static Strings,
    pub title: String,
    pub signed_in: bool,
    pub user_name: String,
    pub user_role: String,
    pub csrf: String,
    pub nav: Vec<NavGroup>,
    pub other_lang: &'static str,
}

impl Chrome {
    pub fn new(auth: &Auth, active: &str, title: &str) -> Self {
        let t = lang_of(auth).strings();
        let item = |href: &'static str, label: &'static str| NavItem {
            href,
            label,
            active: href == active,
        };
        let not_built = |href: &str| {
            NOT_BUILT
                .iter()
                .find(|(h, _)| *h == href)
                .map(|(h, label)| item(h, label(t)))
        };
        let customers = auth.can(Permission::CustomersRead);
        let mut listen = vec![];
        let mut understand = vec![];
        let mut act = vec![];
        if customers {
            listen.push(item("/voc", t.nav_voc));
            listen.push(item("/surveys", t.nav_surveys));
        }
        if auth.can(Permission::InboxRead) {
            listen.push(item("/inbox", t.nav_inbox));
        }
        if customers {
            understand.push(item("/customers", t.nav_customers));
            understand.push(item("/customer-value", t.nav_customer_value));
            understand.push(item("/journeys", t.nav_journeys));
            understand.push(item("/analytics/funnel", t.nav_analytics));
            act.push(item("/follow-ups", t.nav_follow_ups));
        }
        if customers {
            understand.push(item("/segments", t.nav_segments));
            understand.push(item("/personas", t.nav_personas));
        }
        if customers {
            act.push(item("/campaigns", t.nav_campaigns));
            act.push(item("/contact-policy", t.nav_contact_policy));
            act.push(item("/loyalty", t.nav_loyalty));
        }
        let mut measure = vec![item("/", t.nav_dashboard)];
        measure.extend(not_built("/insights"));
        let mut admin = vec![];
        if auth.can(Permission::DataImport) {
            admin.push(item("/import", t.nav_import));
        }
        if auth.can(Permission::UsersManage) {
            admin.push(item("/admin/users", t.nav_users));
        }
        admin.push(item("/admin/tokens", t.nav_tokens));
        if auth.can(Permission::AuditRead) {
            admin.push(item("/admin/audit", t.nav_audit));
        }
        if auth.can(Permission::UsersManage) {
            admin.push(item("/admin/sources", t.nav_sources));
            admin.push(item("/admin/jobs", t.nav_jobs));
        }
        let nav = [
            (t.nav_group_listen, listen),
            (t.nav_group_understand, understand),
            (t.nav_group_act, act),
            (t.nav_group_measure, measure),
            (t.nav_admin, admin),
        ]
        .into_iter()
        .filter(|(_, items)| !items.is_empty())
        .map(|(label, items)| NavGroup {
            label,
            active: items.iter().any(|i| i.active),
            items,
        })
        .collect();
        Self {
            t,
            title: title.to_string(),
            signed_in: true,
            user_name: auth.user.name.clone(),
            user_role: auth.user.role.as_str().into(),
            csrf: auth.csrf().to_string(),
            nav,
            other_lang: if lang_of(auth) == Lang::Ko {
                "en"
            } else {
                "ko"
            },
        }
    }

    pub fn anonymous(lang: Lang, title: &str) -> Self {
        Self {
            t: lang.strings(),
            title: title.to_string(),
            signed_in: false,
            user_name: String::new(),
            user_role: String::new(),
            csrf: String::new(),
            nav: vec![],
            other_lang: if lang == Lang::Ko { "en" } else { "ko" },
        }
    }
}

/// The signed-in user's own language, or the browser's.
pub fn lang_of(auth: &Auth) -> Lang {
    Lang::parse(&auth.user.locale).unwrap_or_else(|| crate::context::current().lang)
}

pub fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => UiError(AppError::Internal(e.into())).into_response(),
    }
}

/// An error shown as a page rather than as JSON.
#[derive(Debug)]
pub struct UiError(pub AppError);

impl<E: Into<AppError>> From<E> for UiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    message: String,
    request_id: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let ctx = crate::context::current();
        if let AppError::Internal(cause) = &self.0 {
            tracing::error!(request_id = %ctx.id, error = ?cause, "internal error");
        }
        if matches!(self.0, AppError::Unauthorized) {
            return Redirect::to("/signin").into_response();
        }
        let status = self.0.status();
        let page = ErrorPage {
            chrome: Chrome::anonymous(ctx.lang, "nunchi"),
            status: status.as_u16(),
            message: self.0.message(ctx.lang),
            request_id: ctx.id,
        };
        let mut response = (status, render(page)).into_response();
        self.0.add_headers(&mut response);
        response
    }
}

pub type UiResult = Result<Response, UiError>;

/// A signed-in browser user who holds `R`'s permission; others are sent to sign in or
/// shown a "not allowed" page.
pub struct UiNeed<R>(pub Auth, std::marker::PhantomData<R>);

impl<R> std::ops::Deref for UiNeed<R> {
    type Target = Auth;
    fn deref(&self) -> &Auth {
        &self.0
    }
}

impl<R: Requirement> FromRequestParts<AppState> for UiNeed<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let auth = authenticate(parts, state)
            .await
            .map_err(|e| UiError(e).into_response())?;
        let Some(auth) = auth else {
            return Err(Redirect::to("/signin").into_response());
        };
        if !auth.can(R::PERMISSION) {
            return Err(UiError(AppError::Forbidden).into_response());
        }
        Ok(Self(auth, std::marker::PhantomData))
    }
}

/// Any signed-in browser user.
pub struct UiAuth(pub Auth);

impl FromRequestParts<AppState> for UiAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match authenticate(parts, state).await {
            Ok(Some(auth)) => Ok(Self(auth)),
            Ok(None) => Err(Redirect::to("/signin").into_response()),
            Err(e) => Err(UiError(e).into_response()),
        }
    }
}

#[derive(Template)]
#[template(path = "not_built.html")]
struct NotBuiltPage {
    chrome: Chrome,
    heading: &'static str,
}

async fn not_built(UiAuth(auth): UiAuth, uri: axum::http::Uri) -> Response {
    let t = lang_of(&auth).strings();
    let (href, label) = NOT_BUILT
        .iter()
        .find(|(p, _)| *p == uri.path())
        .copied()
        .unwrap_or(("/", |t| t.nav_dashboard));
    render(NotBuiltPage {
        chrome: Chrome::new(&auth, href, label(t)),
        heading: label(t),
    })
}

async fn css() -> impl IntoResponse {
    (
        [
            ("content-type", "text/css; charset=utf-8"),
            ("cache-control", "public, max-age=3600"),
        ],
        include_str!("../../assets/app.css"),
    )
}

async fn favicon() -> impl IntoResponse {
    (
        [
            ("content-type", "image/svg+xml"),
            ("cache-control", "public, max-age=86400"),
        ],
        include_str!("../../assets/favicon.svg"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            ("content-type", "text/javascript; charset=utf-8"),
            ("cache-control", "public, max-age=3600"),
        ],
        concat!(
            include_str!("../../assets/live_thread.js"),
            include_str!("../../assets/app.js")
        ),
    )
}

/// The embeddable widget (surveys and chat); served to any site, so it may be cached
/// briefly only.
async fn widget_js() -> impl IntoResponse {
    (
        [
            ("content-type", "text/javascript; charset=utf-8"),
            ("cache-control", "public, max-age=300"),
            ("access-control-allow-origin", "*"),
        ],
        concat!(
            include_str!("../../assets/live_thread.js"),
            include_str!("../../assets/widget.js")
        ),
    )
}

/// A number typed into a form field; empty is `None`, anything else not a number is a
/// 400 naming the field.
pub fn form_number(field: &str, text: &str) -> Result<Option<f64>, AppError> {
    match text.trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| {
            AppError::bad_request(
                &format!("invalid_{field}"),
                format!("{field} {v:?} is not a number"),
            )
        }),
    }
}

/// Formats a Unix-millisecond time as a date and minute in Korea's time zone, which is
/// where our users work; per-user zones come with user preferences.
/// A whole number with thousands separators (17,415), as both Korean and English write
/// them. Takes any integer (templates pass references).
pub fn count(n: &impl std::fmt::Display) -> String {
    let text = n.to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", text.as_str()),
    };
    let mut out = String::with_capacity(text.len() + digits.len() / 3);
    out.push_str(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn fmt_time(ms: i64) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Seoul").unwrap_or(jiff::tz::TimeZone::UTC);
    nunchi_core::time::Millis(ms)
        .to_timestamp()
        .to_zoned(tz)
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn fmt_money(minor: i64, currency: &str) -> String {
    nunchi_core::money::Currency::parse(currency)
        .map(|c| nunchi_core::money::Money::new(minor, c).display())
        .unwrap_or_else(|_| format!("{minor} {currency}"))
}

/// An amount in major units (a model's estimate, such as lifetime value), to the nearest
/// minor unit.
pub fn fmt_major(major: f64, currency: &str) -> String {
    let minor_units = nunchi_core::money::Currency::parse(currency).map_or(0, |c| c.minor_units());
    fmt_money(
        (major * 10f64.powi(i32::from(minor_units))).round() as i64,
        currency,
    )
}

#[cfg(test)]
mod count_tests {
    #[test]
    fn counts_group_thousands() {
        assert_eq!(super::count(&0), "0");
        assert_eq!(super::count(&999), "999");
        assert_eq!(super::count(&10_000), "10,000");
        assert_eq!(super::count(&17_415u64), "17,415");
        assert_eq!(super::count(&-1_234_567i64), "-1,234,567");
    }
}
