//! Claims-based security: putting a SAS token on `$cbs` for a queue, and renewing it before it
//! expires (Service Bus detaches links whose token ran out). Done by hand rather than with
//! fe2o3-amqp-cbs: it is one request/reply, and this way the request shape is ours to test.
//!
//! Azure is unreachable here and RabbitMQ has no `$cbs`: the exchange runs in the tests against
//! `tests/broker/cbs_peer.py` (Qpid Proton), which checks the request and the token's signature
//! and expiry, serves queues only to an authorized connection and detaches links whose token ran
//! out (tests/cbs.rs: authorize, wrong key, renewal before expiry).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fe2o3_amqp::link::{Receiver, Sender};
use fe2o3_amqp::session::SessionHandle;
use fe2o3_amqp::types::messaging::{AmqpValue, ApplicationProperties, Body, Message, Outcome, Properties};
use fe2o3_amqp::types::primitives::{SimpleValue, Value};
use tokio::task::JoinHandle;

use crate::secret::Secret;
use crate::error::{Step, StepError};
use crate::sas;

pub const CBS_ADDRESS: &str = "$cbs";
pub const SAS_TOKEN_TYPE: &str = "servicebus.windows.net:sastoken";

/// The put-token request for `audience`, as Service Bus documents it: application properties
/// operation / type / name, the token as an amqp-value string body, replies to `reply_to`.
pub fn put_token_request(audience: &str, token: String, message_id: &str, reply_to: &str) -> Message<AmqpValue<String>> {
    Message::builder()
        .properties(Properties::builder().message_id(message_id.to_owned()).reply_to(reply_to.to_owned()).build())
        .application_properties(
            ApplicationProperties::builder()
                .insert("operation", SimpleValue::String("put-token".into()))
                .insert("type", SimpleValue::String(SAS_TOKEN_TYPE.into()))
                .insert("name", SimpleValue::String(audience.to_owned()))
                .build(),
        )
        .body(AmqpValue(token))
        .build()
}

pub(crate) struct CbsClient {
    sender: Sender,
    receiver: Receiver,
    reply_to: String,
}

impl CbsClient {
    pub(crate) async fn attach(session: &mut SessionHandle<()>) -> Result<Self, StepError> {
        let reply_to = format!("cbs-reply-{}", uuid::Uuid::new_v4());
        let sender = Sender::attach(session, format!("cbs-sender-{}", uuid::Uuid::new_v4()), CBS_ADDRESS)
            .await
            .map_err(|e| StepError::new(Step::Auth, format!("cannot open $cbs to send the SAS token: {e}")))?;
        let receiver = Receiver::builder()
            .name(format!("cbs-receiver-{}", uuid::Uuid::new_v4()))
            .source(CBS_ADDRESS)
            .target(reply_to.clone())
            .attach(session)
            .await
            .map_err(|e| StepError::new(Step::Auth, format!("cannot open $cbs for replies: {e}")))?;
        Ok(CbsClient { sender, receiver, reply_to })
    }

    /// Puts a fresh token valid for `lifetime`. The token itself is never logged.
    pub(crate) async fn put_sas_token(&mut self, audience: &str, rule: &str, key: &Secret, lifetime: Duration) -> Result<(), StepError> {
        let expiry = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) + lifetime.as_secs();
        let token = sas::sas_token(audience, rule, key.expose(), expiry);
        let id = uuid::Uuid::new_v4().to_string();
        let request = put_token_request(audience, token, &id, &self.reply_to);
        let outcome = self
            .sender
            .send(request)
            .await
            .map_err(|e| StepError::new(Step::Auth, format!("sending the SAS token to $cbs failed: {e}")))?;
        if !matches!(outcome, Outcome::Accepted(_)) {
            return Err(StepError::new(Step::Auth, format!("$cbs did not accept the put-token request: {outcome:?}")));
        }
        let reply = tokio::time::timeout(Duration::from_secs(30), self.receiver.recv::<Body<Value>>())
            .await
            .map_err(|_| StepError::new(Step::Auth, "no reply from $cbs within 30 s"))?
            .map_err(|e| StepError::new(Step::Auth, format!("reading the $cbs reply failed: {e}")))?;
        let _ = self.receiver.accept(&reply).await;
        let props = reply.message().application_properties.as_ref();
        let get = |k: &str| props.and_then(|p| p.0.get(k));
        let status = match get("status-code") {
            Some(SimpleValue::Int(c)) => *c as i64,
            Some(SimpleValue::Uint(c)) => *c as i64,
            Some(SimpleValue::Long(c)) => *c,
            Some(SimpleValue::Ulong(c)) => *c as i64,
            _ => -1,
        };
        let description = match get("status-description") {
            Some(SimpleValue::String(s)) => s.clone(),
            _ => String::new(),
        };
        match status {
            200 | 202 => {
                tracing::debug!(audience, "SAS token accepted by $cbs");
                Ok(())
            }
            401 => Err(StepError::new(Step::Auth, format!("$cbs refused the SAS token for {audience} (401 {description}): wrong rule name or key?"))),
            403 => Err(StepError::new(Step::NoPermission, format!("the SAS rule may not use {audience} (403 {description})"))),
            404 => Err(StepError::new(Step::QueueNotFound, format!("{audience} does not exist (404 {description})"))),
            other => Err(StepError::new(Step::Auth, format!("$cbs answered {other} {description} for {audience}"))),
        }
    }
}

/// Renews at 80 % of the lifetime; on failure retries every 30 s (the links keep working until
/// the old token expires, and a link dropped for expiry surfaces as a Connection error).
pub(crate) fn spawn_renewal(mut client: CbsClient, audience: String, rule: String, key: Secret, lifetime: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = lifetime.mul_f64(0.8);
        loop {
            tokio::time::sleep(wait).await;
            match client.put_sas_token(&audience, &rule, &key, lifetime).await {
                Ok(()) => wait = lifetime.mul_f64(0.8),
                Err(e) => {
                    tracing::warn!(audience = %audience, error = %e, "SAS token renewal failed; retrying in 30 s");
                    wait = Duration::from_secs(30);
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_token_request_has_the_documented_shape() {
        use fe2o3_amqp::types::messaging::MessageId;
        let m = put_token_request("sb://ns.servicebus.windows.net/q", "SharedAccessSignature sr=x".into(), "id-1", "cbs-reply-1");
        let props = m.application_properties.as_ref().expect("application properties");
        assert_eq!(props.0.get("operation"), Some(&SimpleValue::String("put-token".into())));
        assert_eq!(props.0.get("type"), Some(&SimpleValue::String("servicebus.windows.net:sastoken".into())));
        assert_eq!(props.0.get("name"), Some(&SimpleValue::String("sb://ns.servicebus.windows.net/q".into())));
        let p = m.properties.as_ref().expect("properties");
        assert_eq!(p.message_id, Some(MessageId::String("id-1".into())));
        assert_eq!(p.reply_to.as_deref(), Some("cbs-reply-1"));
        // amqp-value string body, not a Data section: that is what $cbs parses.
        assert_eq!(m.body.0, "SharedAccessSignature sr=x");
    }
}
