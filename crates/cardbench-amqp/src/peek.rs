//! A real peek: Service Bus's `com.microsoft:peek-message` on the entity's `$management` node
//! (AMQP management request/response, over fe2o3-amqp-management). A peek neither locks the
//! messages nor raises their delivery count.
//!
//! Request: application property `operation` = `com.microsoft:peek-message`, amqp-value map body
//! `from-sequence-number` (long), `message-count` (int). Response: `statusCode` 200 with an
//! amqp-value map `messages` → list of maps whose `message` is the whole AMQP-encoded message,
//! or 204 when there is nothing (more) to peek. (Microsoft, "AMQP 1.0 in Azure Service Bus:
//! request-response-based operations", Message operations → Peek message.)
//!
//! Azure is unreachable here: the request shape and the decoding of a response are tested in
//! this module; RabbitMQ 3.10 has no `$management` node and refuses the attach.

use fe2o3_amqp::types::messaging::message::__private::Deserializable;
use fe2o3_amqp::types::messaging::{AmqpValue, Body, Message};
use fe2o3_amqp::types::primitives::{OrderedMap, Value};
use fe2o3_amqp_management::error::{AttachError, Error as MgmtError, InvalidType, StatusCodeNotFound, StatusError};
use fe2o3_amqp_management::mgmt_ext::AmqpMessageManagementExt;
use fe2o3_amqp_management::{MgmtClient, Request, Response};

use crate::config::ServiceBusConfig;
use crate::connect::{self, Link};
use crate::error::StepError;
use crate::link::{CLOSE_TIMEOUT, EXCHANGE_TIMEOUT, conn_err};
use cardbench_transport::TransportError;

pub const PEEK_OPERATION: &str = "com.microsoft:peek-message";

/// Why a peek was not possible, telling a broker without a `$management` node (fall back to
/// browsing) from a failure (report it).
#[derive(Debug)]
pub(crate) enum PeekError {
    /// The broker refused the management node: it has no peek (RabbitMQ 3.10).
    Unsupported(String),
    Failed(TransportError),
}

impl From<StepError> for PeekError {
    fn from(e: StepError) -> Self {
        PeekError::Failed(e.into())
    }
}

/// One peek request: up to `message_count` messages from `from_sequence_number` on.
#[derive(Debug, Clone, Copy)]
pub struct PeekRequest {
    pub from_sequence_number: i64,
    pub message_count: i32,
}

impl Request for PeekRequest {
    const OPERATION: &'static str = PEEK_OPERATION;
    type Response = PeekResponse;
    type Body = AmqpValue<OrderedMap<String, Value>>;

    fn encode_body(self) -> Self::Body {
        let mut map = OrderedMap::new();
        map.insert("from-sequence-number".to_owned(), Value::Long(self.from_sequence_number));
        map.insert("message-count".to_owned(), Value::Int(self.message_count));
        AmqpValue(map)
    }
}

/// The peeked messages, in sequence order (empty on 204).
#[derive(Debug, Default)]
pub struct PeekResponse {
    pub messages: Vec<Message<Body<Value>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeekResponseError {
    #[error("{0}")]
    Status(#[from] StatusError),
    #[error("a field of the answer has the wrong type: {0:?}")]
    InvalidType(#[from] InvalidType),
    #[error("the answer has no status code")]
    NoStatus,
    #[error("the answer is not the documented peek answer: {0}")]
    Shape(String),
}

impl From<StatusCodeNotFound> for PeekResponseError {
    fn from(_: StatusCodeNotFound) -> Self {
        PeekResponseError::NoStatus
    }
}

impl From<PeekResponseError> for MgmtError {
    fn from(e: PeekResponseError) -> Self {
        match e {
            PeekResponseError::Status(s) => MgmtError::Status(s),
            PeekResponseError::InvalidType(t) => MgmtError::DecodeError(Some(t)),
            PeekResponseError::NoStatus => MgmtError::StatusCodeNotFound,
            PeekResponseError::Shape(s) => MgmtError::DecodeError(Some(InvalidType { expected: "peek answer".into(), actual: s })),
        }
    }
}

impl Response for PeekResponse {
    const STATUS_CODE: u16 = 200;
    type Body = Body<Value>;
    type Error = PeekResponseError;

    /// 200 carries messages, 204 says there are none: both are answers.
    fn from_message(mut message: Message<Self::Body>) -> Result<Self, Self::Error> {
        let code = match message.remove_status_code() {
            None => return Err(StatusCodeNotFound {}.into()),
            Some(Err(v)) => return Err(InvalidType { expected: "status code".into(), actual: format!("{v:?}") }.into()),
            Some(Ok(c)) => c,
        };
        match code.0.get() {
            204 => Ok(PeekResponse::default()),
            200 => Self::decode_message(message),
            _ => {
                let description = match message.remove_status_description() {
                    Some(Ok(d)) => Some(d),
                    _ => None,
                };
                Err(StatusError { code, description }.into())
            }
        }
    }

    fn decode_message(message: Message<Self::Body>) -> Result<Self, Self::Error> {
        let shape = |what: &str| PeekResponseError::Shape(what.to_owned());
        let map = match message.body {
            Body::Value(AmqpValue(Value::Map(m))) => m,
            Body::Empty => return Ok(PeekResponse::default()),
            _ => return Err(shape("the body is not a map")),
        };
        let list = match map.get(&Value::String("messages".into())) {
            Some(Value::List(l)) => l,
            Some(Value::Array(a)) => &a.0,
            None => return Ok(PeekResponse::default()),
            Some(_) => return Err(shape("`messages` is not a list")),
        };
        let mut messages = Vec::with_capacity(list.len());
        for entry in list {
            let Value::Map(entry) = entry else { return Err(shape("an entry of `messages` is not a map")) };
            let Some(Value::Binary(bytes)) = entry.get(&Value::String("message".into())) else {
                return Err(shape("an entry of `messages` has no binary `message`"));
            };
            let decoded: Deserializable<Message<Body<Value>>> =
                serde_amqp::from_slice(bytes).map_err(|e| PeekResponseError::Shape(format!("a peeked message does not decode: {e}")))?;
            messages.push(decoded.0);
        }
        Ok(PeekResponse { messages })
    }
}

/// The sequence number Service Bus stamps on each message (`x-opt-sequence-number`).
pub fn sequence_number(m: &Message<Body<Value>>) -> Option<i64> {
    use fe2o3_amqp::types::messaging::annotations::OwnedKey;
    use fe2o3_amqp::types::primitives::Symbol;
    let key = OwnedKey::Symbol(Symbol::from("x-opt-sequence-number"));
    match m.message_annotations.as_ref()?.0.get(&key)? {
        Value::Long(n) => Some(*n),
        Value::Ulong(n) => i64::try_from(*n).ok(),
        Value::Int(n) => Some(i64::from(*n)),
        _ => None,
    }
}

/// A management client on `<address>/$management`, on a connection of its own.
pub(crate) struct Peeker {
    client: MgmtClient,
    conn: Link,
    node: String,
}

impl Peeker {
    /// `address`: the entity (here the dead-letter queue) to peek at.
    pub(crate) async fn open(config: &ServiceBusConfig, address: &str) -> Result<Peeker, PeekError> {
        let mut conn = connect::open(config).await?;
        // The token for the entity covers its `$management` node (SAS audiences match by prefix).
        conn.authorize(config, address).await?;
        let node = format!("{address}/$management");
        let client = MgmtClient::builder()
            .management_node_address(node.clone())
            .client_node_addr(format!("cardbench-mgmt-{}", uuid::Uuid::new_v4()))
            .attach(&mut conn.session)
            .await;
        match client {
            Ok(client) => Ok(Peeker { client, conn, node }),
            Err(e) => {
                let refused = refused_condition(&e);
                let _ = tokio::time::timeout(CLOSE_TIMEOUT * 2, conn.close()).await;
                match refused {
                    Some(condition) => Err(PeekError::Unsupported(format!("{node}: {condition}"))),
                    None => Err(PeekError::Failed(conn_err(format!("cannot open {node}: {e}")))),
                }
            }
        }
    }

    /// Up to `max` messages from the head, asking again from after the last sequence number
    /// until `max` are there or the entity has no more.
    pub(crate) async fn peek(&mut self, max: usize) -> Result<Vec<Message<Body<Value>>>, TransportError> {
        let mut out: Vec<Message<Body<Value>>> = Vec::new();
        let mut from = 0_i64;
        while out.len() < max {
            let count = i32::try_from(max - out.len()).unwrap_or(i32::MAX);
            let call = self.client.call(PeekRequest { from_sequence_number: from, message_count: count });
            let answer = tokio::time::timeout(EXCHANGE_TIMEOUT, call)
                .await
                .map_err(|_| conn_err(format!("peek on {}: no answer in {} s", self.node, EXCHANGE_TIMEOUT.as_secs())))?
                .map_err(|e| conn_err(format!("peek on {}: {e}", self.node)))?;
            if answer.messages.is_empty() {
                break;
            }
            let last = answer.messages.iter().filter_map(sequence_number).max();
            out.extend(answer.messages);
            match last {
                Some(n) => from = n + 1,
                // Without sequence numbers there is no "after": one answer is all we can take.
                None => break,
            }
        }
        out.truncate(max);
        Ok(out)
    }

    pub(crate) async fn close(self) {
        let Peeker { client, conn, .. } = self;
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, client.close()).await;
        let _ = tokio::time::timeout(CLOSE_TIMEOUT * 2, conn.close()).await;
    }
}

/// The broker's refusal of the management node, when it says the node does not exist here
/// (RabbitMQ 3.10: `amqp:invalid-field`, "invalid_destination"); None for other failures.
fn refused_condition(e: &AttachError) -> Option<String> {
    use fe2o3_amqp::link::{ReceiverAttachError, SenderAttachError};
    use fe2o3_amqp::types::definitions::{AmqpError, ErrorCondition};
    let inner = match e {
        AttachError::Sender(SenderAttachError::RemoteClosedWithError(err)) => Some(err),
        AttachError::Sender(SenderAttachError::SessionStopped(r)) => connect::session_stop_error(r),
        AttachError::Receiver(ReceiverAttachError::RemoteClosedWithError(err)) => Some(err),
        AttachError::Receiver(ReceiverAttachError::SessionStopped(r)) => connect::session_stop_error(r),
        _ => None,
    }?;
    let no_node = matches!(
        inner.condition,
        ErrorCondition::AmqpError(AmqpError::InvalidField | AmqpError::NotFound | AmqpError::NotImplemented)
    );
    no_node.then(|| format!("{:?}: {}", inner.condition, inner.description.as_deref().unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fe2o3_amqp::types::messaging::annotations::OwnedKey;
    use fe2o3_amqp::types::messaging::message::__private::Serializable;
    use fe2o3_amqp::types::messaging::{ApplicationProperties, MessageAnnotations, Properties};
    use fe2o3_amqp::types::primitives::{Binary, SimpleValue, Symbol};

    #[test]
    fn peek_request_has_the_documented_shape() {
        let m = PeekRequest { from_sequence_number: 7, message_count: 50 }.into_message();
        let props = m.application_properties.as_ref().expect("application properties");
        assert_eq!(props.0.get("operation"), Some(&SimpleValue::String("com.microsoft:peek-message".into())));
        let body = &m.body.0;
        assert_eq!(body.get("from-sequence-number"), Some(&Value::Long(7)));
        assert_eq!(body.get("message-count"), Some(&Value::Int(50)));
    }

    fn peeked(id: &str, seq: i64) -> Value {
        let m = Message::builder()
            .properties(Properties::builder().message_id(id.to_owned()).subject("EXTERNAL_PRODUCTION_REQUEST_SENT").build())
            .message_annotations(MessageAnnotations(
                [(OwnedKey::Symbol(Symbol::from("x-opt-sequence-number")), Value::Long(seq))].into_iter().collect(),
            ))
            .application_properties(ApplicationProperties::builder().insert("DeadLetterReason", "MaxDeliveryCountExceeded").build())
            .body(Body::<Value>::Value(AmqpValue(Value::Binary(Binary::from(b"{\"a\":1}".to_vec())))))
            .build();
        let bytes = serde_amqp::to_vec(&Serializable(m)).expect("encode");
        let mut entry = OrderedMap::new();
        entry.insert(Value::String("message".into()), Value::Binary(Binary::from(bytes)));
        Value::Map(entry)
    }

    fn answer(code: i32, body: Body<Value>) -> Message<Body<Value>> {
        Message::builder().application_properties(ApplicationProperties::builder().insert("statusCode", code).build()).body(body).build()
    }

    #[test]
    fn a_200_answer_gives_the_messages_in_order_with_their_sequence_numbers() {
        let mut map = OrderedMap::new();
        map.insert(Value::String("messages".into()), Value::List(vec![peeked("a", 3), peeked("b", 9)]));
        let r = PeekResponse::from_message(answer(200, Body::Value(AmqpValue(Value::Map(map))))).expect("decoded");
        let ids: Vec<_> = r.messages.iter().map(|m| crate::mapping::message_id_to_string(m.properties.as_ref().and_then(|p| p.message_id.as_ref()).expect("id"))).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(r.messages.iter().filter_map(sequence_number).collect::<Vec<_>>(), [3, 9]);
        assert_eq!(crate::mapping::body_bytes(&r.messages[0].body), b"{\"a\":1}");
    }

    #[test]
    fn a_204_answer_is_no_messages_and_other_codes_are_errors() {
        assert!(PeekResponse::from_message(answer(204, Body::Empty)).expect("204").messages.is_empty());
        assert!(matches!(PeekResponse::from_message(answer(401, Body::Empty)), Err(PeekResponseError::Status(_))));
        let mut map = OrderedMap::new();
        map.insert(Value::String("messages".into()), Value::String("nope".into()));
        assert!(matches!(PeekResponse::from_message(answer(200, Body::Value(AmqpValue(Value::Map(map))))), Err(PeekResponseError::Shape(_))));
    }
}
