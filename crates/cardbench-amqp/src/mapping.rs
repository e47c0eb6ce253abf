//! AMQP messages ↔ the carrier-neutral `Delivery` / `OutboundMessage`.

use cardbench_transport::{Delivery, DeliveryTag, OutboundMessage};
use fe2o3_amqp::types::messaging::{Body, Data, Header, Message, MessageId, Properties};
use fe2o3_amqp::types::primitives::{Binary, Value};

/// What we send: durable (RabbitMQ drops non-durable messages on restart, Service Bus ignores
/// the flag), ids and subject as given, body as one Data section.
pub fn outbound_to_amqp(m: &OutboundMessage) -> Message<Data> {
    let mut props = Properties::builder()
        .message_id(MessageId::String(m.message_id.clone()))
        .subject(m.subject.clone())
        .content_type(m.content_type.clone());
    if let Some(c) = &m.correlation_id {
        props = props.correlation_id(MessageId::String(c.clone()));
    }
    Message::builder()
        .header(Header { durable: true, ..Default::default() })
        .properties(props.build())
        .data(Binary::from(m.body.clone()))
        .build()
}

pub fn message_id_to_string(id: &MessageId) -> String {
    match id {
        MessageId::String(s) => s.clone(),
        MessageId::Uuid(u) => uuid::Uuid::from_bytes(*u.as_inner()).to_string(),
        MessageId::Ulong(n) => n.to_string(),
        // Binary ids are rare; hex keeps them printable and stable for dedupe.
        MessageId::Binary(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
    }
}

/// The body bytes, whatever section carried them: Data sections (concatenated), an amqp-value
/// binary or string (what many clients send by default). Anything else (a number, a map, a
/// sequence) is not a protocol message: its rendering is kept so the workflow can record it and
/// answer ERROR.
pub fn body_bytes(body: &Body<Value>) -> Vec<u8> {
    match body {
        Body::Data(batch) => batch.iter().flat_map(|d| d.0.iter().copied()).collect(),
        Body::Value(v) => match &v.0 {
            Value::Binary(b) => b.to_vec(),
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Null => Vec::new(),
            other => format!("{other:?}").into_bytes(),
        },
        Body::Sequence(seq) => format!("{seq:?}").into_bytes(),
        Body::Empty => Vec::new(),
    }
}

/// `count_first_acquirer`: RabbitMQ 3.10 leaves delivery-count at 0 and only clears
/// first-acquirer on redelivery; with this set, such a delivery counts as redelivered once.
pub fn amqp_to_delivery(tag: DeliveryTag, m: &Message<Body<Value>>, count_first_acquirer: bool) -> Delivery {
    let p = m.properties.as_ref();
    let delivery_count = match &m.header {
        Some(h) if h.delivery_count > 0 => h.delivery_count,
        Some(h) if count_first_acquirer && !h.first_acquirer => 1,
        _ => 0,
    };
    Delivery {
        tag,
        message_id: p.and_then(|p| p.message_id.as_ref()).map(message_id_to_string),
        subject: p.and_then(|p| p.subject.clone()),
        correlation_id: p.and_then(|p| p.correlation_id.as_ref()).map(message_id_to_string),
        content_type: p.and_then(|p| p.content_type.as_ref()).map(|s| s.0.clone()),
        body: body_bytes(&m.body),
        delivery_count,
    }
}

/// The field [`extra_fields`] gives Service Bus's enqueued time under (RFC 3339).
pub const ENQUEUED_TIME_FIELD: &str = "x-opt-enqueued-time";

/// The message's application properties and annotations rendered as text, for dead-letter
/// inspection (Service Bus puts DeadLetterReason / DeadLetterErrorDescription in the
/// application properties, x-opt-enqueued-time among the annotations). Strings and symbols come
/// as they are, timestamps as RFC 3339, anything else in its debug form.
pub fn extra_fields(m: &Message<Body<Value>>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(ap) = &m.application_properties {
        for (k, v) in ap.0.iter() {
            out.push((k.clone(), value_text(&Value::from(v.clone()))));
        }
    }
    if let Some(ma) = &m.message_annotations {
        use fe2o3_amqp::types::messaging::annotations::OwnedKey;
        for (k, v) in ma.0.iter() {
            let key = match k {
                OwnedKey::Symbol(s) => s.0.clone(),
                OwnedKey::Ulong(n) => n.to_string(),
            };
            out.push((key, value_text(v)));
        }
    }
    out
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Symbol(s) => s.0.clone(),
        Value::Timestamp(t) => chrono::DateTime::from_timestamp_millis(t.milliseconds())
            .map_or_else(|| t.milliseconds().to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        Value::Long(n) => n.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Uint(n) => n.to_string(),
        Value::Ulong(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fe2o3_amqp::types::messaging::AmqpValue;
    use fe2o3_amqp::types::primitives::Binary;

    #[test]
    fn outbound_message_has_all_properties() {
        let m = outbound_to_amqp(&OutboundMessage {
            message_id: "id".into(),
            subject: "CARD_PRODUCED".into(),
            correlation_id: Some("req".into()),
            content_type: "application/json".into(),
            body: b"{}".to_vec(),
        });
        assert!(m.header.as_ref().is_some_and(|h| h.durable));
        let p = m.properties.as_ref().expect("properties");
        assert_eq!(p.message_id, Some(MessageId::String("id".into())));
        assert_eq!(p.correlation_id, Some(MessageId::String("req".into())));
        assert_eq!(p.subject.as_deref(), Some("CARD_PRODUCED"));
        assert_eq!(p.content_type.as_ref().map(|s| s.0.as_str()), Some("application/json"));
        assert_eq!(m.body.0.as_ref(), b"{}");
    }

    #[test]
    fn accepts_every_body_form() {
        assert_eq!(body_bytes(&Body::Value(AmqpValue(Value::Binary(Binary::from(b"ab".to_vec()))))), b"ab");
        assert_eq!(body_bytes(&Body::Value(AmqpValue(Value::String("é".into())))), "é".as_bytes());
        assert_eq!(body_bytes(&Body::Empty), b"");
        assert_eq!(body_bytes(&Body::Value(AmqpValue(Value::Int(7)))), b"Int(7)");
    }

    #[test]
    fn message_ids_of_every_type_become_strings() {
        assert_eq!(message_id_to_string(&MessageId::Ulong(42)), "42");
        let u = uuid::Uuid::parse_str("6f9619ff-8b86-d011-b42d-00cf4fc964ff").expect("uuid");
        assert_eq!(message_id_to_string(&MessageId::Uuid(fe2o3_amqp::types::primitives::Uuid::from(*u.as_bytes()))), "6f9619ff-8b86-d011-b42d-00cf4fc964ff");
        assert_eq!(message_id_to_string(&MessageId::Binary(Binary::from(vec![1, 255]))), "01ff");
    }
}
