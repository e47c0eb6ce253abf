//! An AMQP message as the link decodes it (serde_amqp), mapped to a delivery and its extra fields.
#![no_main]

use cardbench_amqp::mapping::{amqp_to_delivery, extra_fields};
use cardbench_transport::DeliveryTag;
use fe2o3_amqp::types::messaging::message::__private::Deserializable;
use fe2o3_amqp::types::messaging::{Body, Message};
use fe2o3_amqp::types::primitives::Value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(Deserializable(message)) = serde_amqp::from_slice::<Deserializable<Message<Body<Value>>>>(data) else { return };
    let delivery = amqp_to_delivery(DeliveryTag(1), &message, true);
    assert!(delivery.body.len() <= 1024 * 1024 + 1);
    let _ = extra_fields(&message);
});
