//! Handlers of the emulated Datadog API: AWS integration v2 accounts,
//! `generate_new_external_id`, and `GET /api/v1/validate`. They translate
//! HTTP to store calls and back; rules live in `input.rs` and `state.rs`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::{header_is, API_KEY_HEADER};
use crate::errors::{json_response, ApiError, JSON, JSON_API};
use crate::input::parse_account_request;
use crate::model::{
    Account, AccountData, Document, ExternalIdAttributes, ExternalIdData, Freshness,
};

/// Query of the list endpoint.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    aws_account_id: Option<String>,
}

/// The config id from the path. Live accepts it wrapped in double quotes
/// (`/accounts/%22<uuid>%22`, which the official provider sends), so strip
/// one pair of them; anything that is then not a UUID is the live 400.
fn config_id(raw: &str) -> Result<Uuid, ApiError> {
    let bare = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    Uuid::parse_str(bare).map_err(|_| ApiError::InvalidConfigId)
}

fn account_response(state: &AppState, account: &Account, freshness: Freshness) -> Response {
    let mut data = AccountData::render(account, freshness);
    state.shuffler.account(&mut data);
    json_response(StatusCode::OK, &Document { data }, JSON_API)
}

/// `GET /api/v2/integration/aws/accounts[?aws_account_id=…]`
pub(crate) async fn list_accounts(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Response {
    // An empty filter means no filter, as with Go's `if param != ""`.
    let filter = q.aws_account_id.filter(|s| !s.is_empty());
    let accounts = state.store.list(filter.as_deref());
    let mut data: Vec<AccountData> = accounts
        .iter()
        .map(|a| {
            let mut d = AccountData::render(a, Freshness::Stored);
            state.shuffler.account(&mut d);
            d
        })
        .collect();
    state.shuffler.list(&mut data);
    json_response(StatusCode::OK, &Document { data }, JSON_API)
}

/// `POST /api/v2/integration/aws/accounts`: 200 (not 201), as live.
pub(crate) async fn create_account(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let patch = parse_account_request(&body)?;
    let account = state.store.create(patch)?;
    Ok(account_response(&state, &account, Freshness::Created))
}

/// `GET /api/v2/integration/aws/accounts/{id}`
pub(crate) async fn get_account(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let account = state.store.get(config_id(&raw)?)?;
    Ok(account_response(&state, &account, Freshness::Stored))
}

/// `PATCH /api/v2/integration/aws/accounts/{id}`: merges, see `input.rs`.
pub(crate) async fn patch_account(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = config_id(&raw)?;
    let patch = parse_account_request(&body)?;
    if patch.aws_account_id.is_none() {
        return Err(ApiError::invalid("aws_account_id", "required"));
    }
    let account = state.store.update(id, patch)?;
    Ok(account_response(&state, &account, Freshness::Updated))
}

/// `DELETE /api/v2/integration/aws/accounts/{id}`: 204 with no body.
pub(crate) async fn delete_account(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete(config_id(&raw)?)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v2/integration/aws/generate_new_external_id` (no body).
pub(crate) async fn generate_external_id(State(state): State<AppState>) -> Response {
    let external_id = state.store.issue_external_id();
    let data = ExternalIdData {
        id: external_id.clone(),
        kind: "external_id",
        attributes: ExternalIdAttributes { external_id },
    };
    json_response(StatusCode::OK, &Document { data }, JSON_API)
}

/// `GET /api/v1/validate`: checks only the API key.
pub(crate) async fn validate(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if header_is(&headers, API_KEY_HEADER, &state.config.api_key) {
        json_response(StatusCode::OK, &json!({"valid": true}), JSON)
    } else if headers.contains_key(API_KEY_HEADER) {
        ApiError::Forbidden.into_response()
    } else {
        ApiError::ApiKeyRequired.into_response()
    }
}

/// Any other path: a JSON:API 404.
pub(crate) async fn route_not_found() -> ApiError {
    ApiError::RouteNotFound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_id_accepts_bare_and_quoted_uuids_only() {
        let u = "66393984-2398-4fe3-b8b8-74ab91bebc17";
        assert!(config_id(u).is_ok());
        assert!(config_id(&format!("\"{u}\"")).is_ok());
        for bad in ["not-a-uuid", "\"\"", "\"66393984\"", ""] {
            assert_eq!(config_id(bad), Err(ApiError::InvalidConfigId), "{bad}");
        }
    }
}
