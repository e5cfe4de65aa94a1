//! The customer models over HTTP: a customer's value (RFM cell, probability alive,
//! expected purchases, 12-month lifetime value), products to offer them, and products
//! bought together — for agents' screens and the brand's shop — and the whole base's RFM
//! grid and value.

use axum::{Json, extract::State};
use nunchi_app::customer_models::{self, CustomerValue, Overview, Recommendations};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::AppResult,
    extract::{ApiPath, ApiQuery},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(value))
        .routes(routes!(recommendations))
        .routes(routes!(similar))
        .routes(routes!(overview))
}

#[utoipa::path(get, operation_id = "customer_value_overview", path = "/api/v1/customer-value", security(("bearer" = ["customers_read"])), tag = "customers",
    responses((status = 200, body = Overview, description = "The RFM grid, its cells with size and mean value, the value histogram and the fitted parameters")))]
pub async fn overview(auth: Auth, State(state): State<AppState>) -> AppResult<Json<Overview>> {
    Ok(Json(
        customer_models::overview_of(&state, &auth.as_actor()).await?,
    ))
}

#[utoipa::path(get, operation_id = "customer_value", path = "/api/v1/customers/{id}/value", security(("bearer" = ["customers_read"])), tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = CustomerValue, description = "Figures are null for a customer with no purchases in the models' currency"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn value(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<CustomerValue>> {
    Ok(Json(
        customer_models::customer_value(&state, &auth.as_actor(), id).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopQuery {
    /// How many (1–50, default 10).
    pub top: Option<usize>,
}

#[utoipa::path(get, operation_id = "customer_recommendations", path = "/api/v1/customers/{id}/recommendations", security(("bearer" = ["customers_read"])), tag = "customers", params(("id" = i64, Path), TopQuery),
    responses((status = 200, body = Recommendations), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn recommendations(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TopQuery>,
) -> AppResult<Json<Recommendations>> {
    Ok(Json(
        customer_models::customer_recommendations(
            &state,
            &auth.as_actor(),
            id,
            q.top.unwrap_or(10),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    pub product: String,
    /// How many (1–50, default 10).
    pub top: Option<usize>,
}

#[utoipa::path(get, operation_id = "similar_products", path = "/api/v1/products/similar", security(("bearer" = ["customers_read"])), tag = "orders", params(SimilarQuery),
    responses((status = 200, body = Vec<String>, description = "Bought together with the product, most similar first"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn similar(
    auth: Auth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SimilarQuery>,
) -> AppResult<Json<Vec<String>>> {
    Ok(Json(
        customer_models::similar_products(
            &state,
            &auth.as_actor(),
            &q.product,
            q.top.unwrap_or(10),
        )
        .await?,
    ))
}
