//! What the Settings → Reporting part and the queue inspector's delivery attempts show: the
//! bureau's subscribers (webhooks, forwarding sinks), the card API, and a row's attempts.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One webhook or forwarding sink.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberView {
    pub name: String,
    /// `webhook` or `forward`.
    pub kind: String,
    pub url: String,
    pub topics: Vec<String>,
    /// Webhook: `hex` or `base64`.
    pub encoding: Option<String>,
    /// Forwarding sink: the BASIC user (the password is in the keyring).
    pub user: Option<String>,
    pub created_at: String,
    pub paused_at: Option<String>,
    pub paused_reason: Option<String>,
    /// Events waiting to be delivered.
    #[ts(type = "number")]
    pub pending: i64,
    /// The outbox destination of its rows (`webhook:NAME`), to filter the queue inspector by.
    pub destination: String,
    pub last_attempt: Option<DeliveryAttemptView>,
}

/// The card API's settings and state.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ApiView {
    pub enabled: bool,
    pub listen: String,
    pub allow_remote: bool,
    /// A token is kept (it is never shown again).
    pub has_token: bool,
    /// Where the running node serves it (`127.0.0.1:7878`), when it does.
    pub listening: Option<String>,
    /// Why it is enabled but not served.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReportingView {
    pub subscribers: Vec<SubscriberView>,
    /// Every topic a subscriber may ask for.
    pub topics: Vec<String>,
    pub api: ApiView,
}

/// A webhook just added, with its secret: shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAdded {
    pub subscriber: SubscriberView,
    pub secret: String,
}

/// One delivery attempt of an outbox row to a webhook or sink.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttemptView {
    #[ts(type = "number")]
    pub id: i64,
    pub at: String,
    /// HTTP status; none when no answer came.
    pub status: Option<u16>,
    #[ts(type = "number")]
    pub latency_ms: i64,
    /// `delivered`, `retry`, `permanent` or `stopped`.
    pub outcome: String,
    pub error: Option<String>,
    /// The head of the response body.
    pub response: Option<String>,
}

impl From<cardbench_store::deliveries::AttemptRow> for DeliveryAttemptView {
    fn from(a: cardbench_store::deliveries::AttemptRow) -> Self {
        DeliveryAttemptView {
            id: a.id,
            at: a.at,
            status: a.status,
            latency_ms: a.latency_ms,
            outcome: a.outcome,
            error: a.error,
            response: a.response,
        }
    }
}

pub fn export_reporting(cfg: &ts_rs::Config) -> Result<(), ts_rs::ExportError> {
    <SubscriberView as TS>::export_all(cfg)?;
    <ApiView as TS>::export_all(cfg)?;
    <ReportingView as TS>::export_all(cfg)?;
    <WebhookAdded as TS>::export_all(cfg)?;
    <DeliveryAttemptView as TS>::export_all(cfg)?;
    Ok(())
}
