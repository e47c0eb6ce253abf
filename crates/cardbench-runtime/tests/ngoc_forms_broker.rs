//! NGOC's own forms through a real AMQP 1.0 broker (RabbitMQ on loopback): a request with an
//! offset-less nine-digit time read in the configured zone by the daemon's receive loop, and
//! REPORT_OK / SHIPPED_OK that carry the answered message-id only in the AMQP `correlation-id`
//! property, or nowhere. No ERROR goes to NGOC.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cardbench_amqp::{AmqpConnector, ServiceBusConfig};
use cardbench_protocol::{DecodeOptions, ReceivedZone, Subject};
use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_store::Store;
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_transport::{OutboundMessage, QueueSender};
use cardbench_workflow::{ParcelRequest, ReadoutInput, Workflow};
use serde_json::json;
use common::{broker_url, declare, repo_root, wait_until};

fn status(store: &Store, card_id: &str) -> Option<CardStatus> {
    store.read(|c| cards::get(c, card_id)).ok().flatten().map(|c| c.status)
}

fn ngoc_message(subject: Subject, correlation_id: Option<&str>, body: Vec<u8>) -> OutboundMessage {
    OutboundMessage {
        message_id: uuid::Uuid::new_v4().to_string(),
        subject: subject.as_str().into(),
        correlation_id: correlation_id.map(str::to_owned),
        content_type: "application/json".into(),
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ngocs_forms_run_through_the_broker_without_an_error_to_ngoc() {
    let Some(url) = broker_url() else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("ngoc-forms-in-{tag}"), format!("ngoc-forms-out-{tag}"));
    declare(&[&inbound, &outbound]);
    let amqp = ServiceBusConfig::from_amqp_url(&url, &inbound, &outbound).expect("broker url");
    let connector = Arc::new(AmqpConnector::new(amqp));

    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let zone = DecodeOptions { received_time_zone: ReceivedZone::named("Europe/Stockholm").expect("zone"), ..Default::default() };
    let wf = Workflow::new(store.clone()).with_decode_options(zone);
    let config = RuntimeConfig {
        inbound_queue: inbound.clone(),
        outbound_queue: outbound.clone(),
        receive_wait: Duration::from_millis(100),
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::start(wf.clone(), connector.clone(), config);
    let mut ngoc = connector.open_sender(&inbound).await.expect("NGOC's sender");

    // Two requests of one shipment, as NGOC's sample writes them.
    let sample = std::fs::read(repo_root().join("crates/cardbench-protocol/tests/ngoc/request-sent.json")).expect("fixture");
    let mut requests = Vec::new();
    for card_id in ["CRD-A", "CRD-B"] {
        let mut body: serde_json::Value = serde_json::from_slice(&sample).expect("json");
        body["card"]["cardId"] = json!(card_id);
        body["card"]["expectedReportDataFields"] = json!(["MIFARE_UID"]);
        requests.push(ngoc_message(Subject::RequestSent, None, serde_json::to_vec(&body).expect("json")));
    }
    for r in ngoc.send(&requests).await {
        r.expect("sent");
    }
    wait_until("both requests are received", Duration::from_secs(60), || {
        status(&store, "CRD-A") == Some(CardStatus::Received) && status(&store, "CRD-B") == Some(CardStatus::Received)
    })
    .await;
    let card = store.read(|c| cards::get(c, "CRD-A")).expect("read").expect("card");
    assert_eq!(card.ordered_at, "2022-02-04T08:36:45.650Z", "read in Europe/Stockholm by the daemon");
    assert_eq!(card.request.ordered.as_received(), "2022-02-04T09:36:45.650982100");

    // REPORT_OK for A by the AMQP property only; for B by nothing at all (B has one CARD_PRODUCED).
    let produced_a = wf
        .produce("alice", "CRD-A", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A22B1C5D6E80".into() }], "test")
        .expect("produce A")
        .message_id;
    wf.produce("alice", "CRD-B", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A22B1C5D6E81".into() }], "test")
        .expect("produce B");
    let answers = [
        ngoc_message(Subject::ReportOk, Some(&produced_a), serde_json::to_vec(&json!({"cardId": "CRD-A"})).expect("json")),
        ngoc_message(Subject::ReportOk, None, serde_json::to_vec(&json!({"cardId": "CRD-B"})).expect("json")),
    ];
    for r in ngoc.send(&answers).await {
        r.expect("sent");
    }
    wait_until("REPORT_OK for both cards", Duration::from_secs(60), || {
        status(&store, "CRD-A") == Some(CardStatus::ReportOk) && status(&store, "CRD-B") == Some(CardStatus::ReportOk)
    })
    .await;

    // Two parcels; SHIPPED_OK for the first by the property only, then for the second by nothing
    // (then it is the only one awaiting).
    let shipment = card.shipment_id.clone();
    for card_id in ["CRD-A", "CRD-B"] {
        wf.ship("bob", &ParcelRequest { shipment_id: shipment.clone(), cards: vec![card_id.into()], ..Default::default() })
            .expect("ship");
    }
    let first_parcel = store.read(|c| cardbench_store::parcels::for_shipment(c, &shipment)).expect("parcels")[0].message_id.clone();
    let shipped_ok = serde_json::to_vec(&json!({"shipmentId": shipment})).expect("json");
    for r in ngoc.send(&[ngoc_message(Subject::ShippedOk, Some(&first_parcel), shipped_ok.clone())]).await {
        r.expect("sent");
    }
    wait_until("SHIPPED_OK for the first parcel", Duration::from_secs(60), || status(&store, "CRD-A") == Some(CardStatus::ShippedOk)).await;
    for r in ngoc.send(&[ngoc_message(Subject::ShippedOk, None, shipped_ok)]).await {
        r.expect("sent");
    }
    wait_until("SHIPPED_OK for the second parcel", Duration::from_secs(60), || status(&store, "CRD-B") == Some(CardStatus::ShippedOk)).await;

    let errors = store
        .read(|c| outbox::list(c, &OutboxFilter { subject: Some(Subject::Error.as_str().into()), ..Default::default() }))
        .expect("outbox");
    assert!(errors.is_empty(), "no ERROR to NGOC: {errors:?}");
    ngoc.close().await;
    runtime.shutdown().await;
}
