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
    body_bytes_within(body, crate::config::DEFAULT_MAX_MESSAGE_SIZE as usize)
}

/// [`body_bytes`], but of a body larger than `max` bytes only the first `max + 1` are copied:
/// whoever reads the result sees that it is too large (more than `max`) and never holds more.
pub fn body_bytes_within(body: &Body<Value>, max: usize) -> Vec<u8> {
    let keep = max.saturating_add(1);
    let mut out = Vec::new();
    let mut take = |bytes: &[u8]| {
        let room = keep.saturating_sub(out.len());
        out.extend_from_slice(&bytes[..bytes.len().min(room)]);
    };
    match body {
        Body::Data(batch) => batch.iter().for_each(|d| take(&d.0)),
        Body::Value(v) => match &v.0 {
            Value::Binary(b) => take(b),
            Value::String(s) => take(s.as_bytes()),
            Value::Null => {}
            other => take(rendered(other).as_bytes()),
        },
        Body::Sequence(seq) => {
            // The sections and their lists are two levels above their values.
            let depth = 2 + seq.iter().flat_map(|s| s.0.iter()).map(value_depth).max().unwrap_or(0);
            take(if depth > MAX_VALUE_DEPTH { too_deep() } else { format!("{seq:?}") }.as_bytes());
        }
        Body::Empty => {}
    }
    out
}

/// `count_first_acquirer`: RabbitMQ 3.10 leaves delivery-count at 0 and only clears
/// first-acquirer on redelivery; with this set, such a delivery counts as redelivered once.
/// The body is cut as [`body_bytes`] cuts it (default maximum message size).
pub fn amqp_to_delivery(tag: DeliveryTag, m: &Message<Body<Value>>, count_first_acquirer: bool) -> Delivery {
    amqp_to_delivery_within(tag, m, count_first_acquirer, crate::config::DEFAULT_MAX_MESSAGE_SIZE as usize)
}

/// [`amqp_to_delivery`] with the body cut after `max_body + 1` bytes (see [`body_bytes_within`]).
pub fn amqp_to_delivery_within(tag: DeliveryTag, m: &Message<Body<Value>>, count_first_acquirer: bool, max_body: usize) -> Delivery {
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
        body: body_bytes_within(&m.body, max_body),
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
        other => rendered(other),
    }
}

/// How deeply an AMQP value is formatted at most. Formatting (like decoding) recurses once per
/// level: a 256 KB message of nested lists is ~85,000 levels, beyond any thread's stack. No
/// protocol message nests at all; 32 levels is far more than any real annotation uses.
pub const MAX_VALUE_DEPTH: usize = 32;

/// The debug rendering of `v`, or a placeholder when it nests deeper than [`MAX_VALUE_DEPTH`]:
/// its depth is measured first, without recursion.
fn rendered(v: &Value) -> String {
    if value_depth(v) > MAX_VALUE_DEPTH { too_deep() } else { format!("{v:?}") }
}

fn too_deep() -> String {
    format!("<AMQP value nested deeper than {MAX_VALUE_DEPTH} levels: not shown>")
}

/// How many levels `v` nests (a scalar is 1, a list of scalars 2), counted with a work list
/// instead of recursion, and only up to one level past [`MAX_VALUE_DEPTH`] (deeper is not
/// walked further).
pub fn value_depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut pending: Vec<(&Value, usize)> = vec![(v, 1)];
    while let Some((v, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        if depth > MAX_VALUE_DEPTH {
            continue;
        }
        match v {
            Value::List(items) => pending.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Array(items) => pending.extend(items.0.iter().map(|i| (i, depth + 1))),
            Value::Map(map) => pending.extend(map.iter().flat_map(|(k, v)| [(k, depth + 1), (v, depth + 1)])),
            Value::Described(d) => pending.push((&d.value, depth + 1)),
            _ => {}
        }
    }
    deepest
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

    fn nested(levels: usize) -> Value {
        let mut v = Value::Null;
        for _ in 1..levels {
            v = Value::List(vec![v]);
        }
        v
    }

    #[test]
    fn values_nested_deeper_than_the_bound_are_not_formatted() {
        assert_eq!(value_depth(&nested(1)), 1);
        assert_eq!(value_depth(&nested(MAX_VALUE_DEPTH)), MAX_VALUE_DEPTH);
        assert_eq!(value_depth(&nested(5_000)), MAX_VALUE_DEPTH + 1, "measured only one level past the bound");
        let shallow = body_bytes(&Body::Value(AmqpValue(nested(3))));
        assert_eq!(shallow, b"List([List([Null])])");
        let deep = Body::Value(AmqpValue(nested(MAX_VALUE_DEPTH + 1)));
        assert_eq!(body_bytes(&deep), too_deep().as_bytes());
        let mut m = Message::builder().body(Body::Empty).build();
        m.message_annotations = Some(fe2o3_amqp::types::messaging::MessageAnnotations::builder().insert("x-deep", nested(40)).build());
        assert_eq!(extra_fields(&m), vec![("x-deep".to_owned(), too_deep())]);
    }

    #[test]
    fn a_body_beyond_the_maximum_is_cut_one_byte_past_it() {
        let two = Body::Data(vec![Data(Binary::from(vec![1u8; 600])), Data(Binary::from(vec![2u8; 600]))].into());
        let cut = body_bytes_within(&two, 1000);
        assert_eq!(cut.len(), 1001, "one byte more than the maximum: the reader sees it is too large");
        assert_eq!((cut[599], cut[600]), (1, 2));
        assert_eq!(body_bytes_within(&two, 5000).len(), 1200, "within the maximum: whole");
    }

    #[test]
    fn message_ids_of_every_type_become_strings() {
        assert_eq!(message_id_to_string(&MessageId::Ulong(42)), "42");
        let u = uuid::Uuid::parse_str("6f9619ff-8b86-d011-b42d-00cf4fc964ff").expect("uuid");
        assert_eq!(message_id_to_string(&MessageId::Uuid(fe2o3_amqp::types::primitives::Uuid::from(*u.as_bytes()))), "6f9619ff-8b86-d011-b42d-00cf4fc964ff");
        assert_eq!(message_id_to_string(&MessageId::Binary(Binary::from(vec![1, 255]))), "01ff");
    }
}
