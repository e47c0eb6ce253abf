//! Settings → Reporting (webhooks, forwarding sinks, the card API) and a row's delivery attempts
//! in the queue inspector. The rules are the workflow's (`reporting::subscribers`) and the API
//! crate's (`token`, the listen check); this only turns them into views.

use cardbench_runtime::config::Config;
use cardbench_runtime::node::ApiStatus;
use cardbench_store::deliveries;
use cardbench_workflow::reporting::subscribers::{self, SignatureEncoding, Subscriber, SubscriberKind};
use cardbench_workflow::reporting::Topic;

use crate::dto::*;
use crate::error::AppError;
use crate::station::{Result, Station};

fn kind(text: &str) -> Result<SubscriberKind> {
    SubscriberKind::parse(text).ok_or_else(|| AppError::Invalid(format!("no subscriber kind {text:?} (webhook or forward)")))
}

fn topics(names: &[String]) -> Result<Vec<Topic>> {
    subscribers::parse_topics(names).map_err(|p| AppError::Invalid(p.to_string()))
}

impl Station {
    fn subscriber_view(&self, s: Subscriber) -> Result<SubscriberView> {
        let destination = s.destination();
        let (pending, last) = self.store().read(|conn| {
            Ok::<_, cardbench_store::StoreError>((
                deliveries::pending_for_destination(conn, &destination)?,
                deliveries::last_for_destination(conn, &destination)?,
            ))
        })?;
        let text = |key: &str| s.settings.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(SubscriberView {
            encoding: (s.kind == SubscriberKind::Webhook).then(|| text("encoding").unwrap_or_else(|| "hex".into())),
            user: text("user"),
            kind: s.kind.as_str().to_owned(),
            topics: s.topics.iter().map(|t| t.as_str().to_owned()).collect(),
            name: s.name,
            url: s.url,
            created_at: s.created_at,
            paused_at: s.paused_at,
            paused_reason: s.paused_reason,
            pending,
            destination,
            last_attempt: last.map(DeliveryAttemptView::from),
        })
    }

    /// The Reporting part of Settings; `api` is the running node's word on the API.
    pub fn reporting(&self, api: Option<ApiStatus>) -> Result<ReportingView> {
        let subscribers = subscribers::list(self.store())?
            .into_iter()
            .map(|s| self.subscriber_view(s))
            .collect::<Result<Vec<_>>>()?;
        let file = Config::load_file(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        let has_token = cardbench_api::token::exists().map_err(|e| AppError::Settings(e.to_string()))?;
        let api = ApiView {
            enabled: file.api.enabled,
            listen: file.api.listen.clone(),
            allow_remote: file.api.allow_remote,
            has_token,
            listening: api.as_ref().and_then(|a| a.listening).map(|a| a.to_string()),
            problem: api.and_then(|a| a.problem),
        };
        Ok(ReportingView { subscribers, topics: Topic::ALL.iter().map(|t| t.as_str().to_owned()).collect(), api })
    }

    pub fn add_webhook(&self, name: &str, url: &str, topic_names: &[String], encoding: &str) -> Result<WebhookAdded> {
        let encoding = SignatureEncoding::parse(encoding).ok_or_else(|| AppError::Invalid(format!("no signature encoding {encoding:?} (hex or base64)")))?;
        let (subscriber, secret) = subscribers::add_webhook(self.store(), name.trim(), url.trim(), &topics(topic_names)?, encoding)?;
        tracing::info!(name = %subscriber.name, "webhook added in the settings");
        Ok(WebhookAdded { subscriber: self.subscriber_view(subscriber)?, secret: secret.expose().to_owned() })
    }

    pub fn add_forward(&self, name: &str, url: &str, topic_names: &[String], user: &str, password: &str) -> Result<SubscriberView> {
        if user.trim().is_empty() || password.is_empty() {
            return Err(AppError::Invalid("a forwarding sink needs its BASIC user and password".into()));
        }
        let password = cardbench_secrets::Secret::new(password);
        let sink = subscribers::add_forward(self.store(), name.trim(), url.trim(), &topics(topic_names)?, user.trim(), &password, serde_json::json!({}))?;
        tracing::info!(name = %sink.name, "forwarding sink added in the settings");
        self.subscriber_view(sink)
    }

    pub fn remove_subscriber(&self, kind_name: &str, name: &str) -> Result<()> {
        subscribers::remove(self.store(), kind(kind_name)?, name)?;
        tracing::info!(name, kind = kind_name, "subscriber removed in the settings");
        Ok(())
    }

    pub fn resume_subscriber(&self, name: &str) -> Result<()> {
        if !subscribers::resume(self.store(), name)? {
            return Err(AppError::Invalid(format!("no subscriber {name:?} to resume")));
        }
        Ok(())
    }

    /// Writes `[api]` (enabled, listen) into the config file, checked as the file is; the caller
    /// restarts the node so it takes effect.
    pub fn save_api_settings(&self, enabled: bool, listen: &str) -> Result<()> {
        let mut file = Config::load_file(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        file.api.enabled = enabled;
        file.api.listen = listen.trim().to_owned();
        file.api.listen_addr().map_err(|e| AppError::Settings(e.to_string()))?;
        file.save(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        let effective = Config::load(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = effective;
        tracing::info!(enabled, "card API settings saved");
        Ok(())
    }

    /// A new API token, shown once (`rotate`: replaces the kept one).
    pub fn api_token(&self, rotate: bool) -> Result<String> {
        let token = cardbench_api::token::issue(rotate).map_err(|e| AppError::Settings(e.to_string()))?;
        Ok(token.expose().to_owned())
    }

    /// An outbox row's delivery attempts (webhooks and sinks record them), oldest first.
    pub fn delivery_attempts(&self, outbox_id: i64) -> Result<Vec<DeliveryAttemptView>> {
        let rows = self.store().read(|conn| deliveries::for_outbox(conn, outbox_id))?;
        Ok(rows.into_iter().map(DeliveryAttemptView::from).collect())
    }
}
