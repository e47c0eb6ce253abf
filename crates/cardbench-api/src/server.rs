//! The routes, the bearer check and the server task.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cardbench_workflow::{Workflow, WorkflowError};
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::ApiConfig;
use crate::error::ApiError;

/// Events per page when `limit` is not given, and the most a page may ask for.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;
/// How long [`ApiServer::stop`] waits for requests in flight.
pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The bearer token requests must carry. Never printed (`Debug` hides it).
#[derive(Clone)]
pub struct Token(Arc<str>);

impl Token {
    pub fn new(token: &str) -> Token {
        Token(Arc::from(token))
    }

    /// Whether `given` is this token, compared in constant time (a wrong guess takes as long
    /// however many of its bytes match).
    fn matches(&self, given: &str) -> bool {
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

#[derive(Clone)]
struct AppState {
    workflow: Workflow,
    token: Token,
}

/// Every route the server has, as `docs/api/openapi.yaml` writes its paths (the test holds the
/// document to this list).
pub const ROUTES: [&str; 3] = [CARD, SHIPMENT, EVENTS];
const CARD: &str = "/api/card/{cardId}";
const SHIPMENT: &str = "/api/shipment/{shipmentId}";
const EVENTS: &str = "/api/events";

/// The API's routes over `workflow`, every one behind `token`. Only GET (and HEAD) are routed:
/// any other method on a route answers 405.
pub fn router(workflow: Workflow, token: Token) -> Router {
    let state = AppState { workflow, token };
    Router::new()
        .route(CARD, get(card))
        .route(SHIPMENT, get(shipment))
        .route(EVENTS, get(events))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), bearer))
        .with_state(state)
}

/// The JSON error body of every refusal: `{"error": "..."}`.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn bearer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(token) if state.token.matches(token) => next.run(request).await,
        _ => {
            tracing::debug!(path = %request.uri().path(), "card API: refused a request without the right token");
            let mut response = error(StatusCode::UNAUTHORIZED, "a valid bearer token is required (Authorization: Bearer <token>)");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"cardbench\""));
            response
        }
    }
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such resource: the API has /api/card/{cardId}, /api/shipment/{shipmentId} and /api/events")
}

/// A workflow error as the API answers it: unknown ids are 404, anything else a 500 that says
/// no more than that (the log has the cause).
fn refusal(e: WorkflowError) -> Response {
    match e {
        WorkflowError::UnknownCard(id) => error(StatusCode::NOT_FOUND, format!("unknown card {id}")),
        WorkflowError::UnknownShipment(id) => error(StatusCode::NOT_FOUND, format!("unknown shipment {id}")),
        other => {
            tracing::error!(error = %other, "card API: a read failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "the store could not be read; see Cardbench's log")
        }
    }
}

/// Runs a store read off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, WorkflowError> + Send + 'static) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(refusal),
        Err(e) => {
            tracing::error!(error = %e, "card API: a read task failed");
            Err(error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
        }
    }
}

async fn card(State(state): State<AppState>, Path(card_id): Path<String>) -> Response {
    match blocking(move || state.workflow.card_report(&card_id)).await {
        Ok(report) => Json(report).into_response(),
        Err(response) => response,
    }
}

async fn shipment(State(state): State<AppState>, Path(shipment_id): Path<String>) -> Response {
    match blocking(move || state.workflow.shipment_report(&shipment_id)).await {
        Ok(report) => Json(report).into_response(),
        Err(response) => response,
    }
}

/// `after` and `limit` of `/api/events`, refused (400, saying why) when not whole numbers in range
/// or when anything else is asked.
fn paging(query: &BTreeMap<String, String>) -> Result<(i64, u32), String> {
    if let Some(other) = query.keys().find(|k| *k != "after" && *k != "limit") {
        return Err(format!("unknown parameter {other:?}: only after and limit"));
    }
    let after = match query.get("after") {
        None => 0,
        Some(text) => text.parse::<i64>().ok().filter(|a| *a >= 0).ok_or("after must be an event id (a whole number ≥ 0)")?,
    };
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| format!("limit must be a whole number from 1 to {MAX_LIMIT}"))?,
    };
    Ok((after, limit))
}

async fn events(State(state): State<AppState>, query: Result<Query<BTreeMap<String, String>>, QueryRejection>) -> Response {
    let Ok(Query(query)) = query else {
        return error(StatusCode::BAD_REQUEST, "the query string cannot be read");
    };
    let (after, limit) = match paging(&query) {
        Ok(p) => p,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    match blocking(move || state.workflow.events_page(after, limit)).await {
        Ok(page) => Json(page).into_response(),
        Err(response) => response,
    }
}

/// The card API serving on its own task until [`ApiServer::stop`].
pub struct ApiServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ApiServer {
    /// Binds `config`'s listen address (refused when not loopback unless allowed) and serves.
    pub async fn start(workflow: Workflow, config: &ApiConfig, token: Token) -> Result<ApiServer, ApiError> {
        let addr = config.listen_addr()?;
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| ApiError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(|source| ApiError::Bind { addr, source })?;
        let (stop, mut stopped) = watch::channel(false);
        let app = router(workflow, token);
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                tracing::error!(error = %e, "the card API stopped");
            }
        });
        tracing::info!(%addr, "card API listening on http://{addr}/api/");
        Ok(ApiServer { addr, stop, task })
    }

    /// Where it listens (the port chosen when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and lets requests in flight finish, for at most [`STOP_GRACE`]: a client
    /// that keeps its connection open does not hold up the node's restart or shutdown.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
            tracing::warn!("the card API did not stop within its grace period; its connections are dropped");
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn paging_is_checked() {
        assert_eq!(paging(&q(&[])), Ok((0, DEFAULT_LIMIT)));
        assert_eq!(paging(&q(&[("after", "12"), ("limit", "5")])), Ok((12, 5)));
        assert!(paging(&q(&[("after", "-1")])).is_err());
        assert!(paging(&q(&[("after", "x")])).is_err());
        assert!(paging(&q(&[("limit", "0")])).is_err());
        assert!(paging(&q(&[("limit", "1001")])).is_err());
        assert!(paging(&q(&[("page", "2")])).is_err());
    }

    #[test]
    fn the_token_compares_whole() {
        let t = Token::new("abc123");
        assert!(t.matches("abc123"));
        assert!(!t.matches("abc12"));
        assert!(!t.matches("abc1234"));
        assert!(!t.matches(""));
        assert_eq!(format!("{t:?}"), "Token(…)");
    }
}
