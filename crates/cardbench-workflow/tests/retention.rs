//! The retention rule with the clock as a parameter: a card is purged only once its SHIPPED_OK
//! is older than the retention days; a dry run changes nothing; a purged message is never sent
//! again.

use std::sync::Arc;

use cardbench_protocol::Subject;
use cardbench_store::cards;
use cardbench_store::inbox::Envelope;
use cardbench_workflow::{ParcelRequest, ReadoutInput, Workflow, WorkflowError};
use chrono::{Duration, Utc};
use cardbench_sim::fixtures;
use serde_json::json;

const NAME: &str = "Åsa Öberg";

fn ingest(wf: &Workflow, subject: Subject, body: &serde_json::Value) {
    let id = uuid::Uuid::new_v4().to_string();
    let bytes = serde_json::to_vec(body).expect("json");
    let envelope = Envelope {
        message_id: Some(&id),
        subject: Some(subject.as_str()),
        body: &bytes,
        ..Default::default()
    };
    wf.ingest(&[envelope]).expect("ingest");
}

/// Ingests the simulator's request (`cardbench_sim::fixtures`) for `card_id`, with what these
/// tests rely on set here: [`NAME`] as the holder and the recipient.
fn request(wf: &Workflow, card_id: &str) {
    let mut body = fixtures::request_json(card_id, &format!("S-{card_id}"));
    body["card"]["cardElements"]["NAME"] = json!(NAME);
    body["address"]["recipient"] = json!(NAME);
    ingest(wf, Subject::RequestSent, &body);
}

fn shipped_ok(wf: &Workflow, card_id: &str) -> i64 {
    request(wf, card_id);
    let produced = wf
        .produce(
            "alice",
            card_id,
            &[ReadoutInput {
                field: "MIFARE_UID".into(),
                value: "04A22B1C".into(),
            }],
            "typed",
        )
        .expect("produce");
    ingest(
        wf,
        Subject::ReportOk,
        &json!({"cardId": card_id, "correlationId": produced.message_id}),
    );
    let parcel = wf
        .ship(
            "bob",
            &ParcelRequest {
                shipment_id: format!("S-{card_id}"),
                cards: vec![card_id.into()],
                ..Default::default()
            },
        )
        .expect("ship");
    ingest(
        wf,
        Subject::ShippedOk,
        &json!({"shipmentId": format!("S-{card_id}"), "correlationId": parcel.message_id}),
    );
    // The CARD_PRODUCED row: it held the readouts.
    wf.store()
        .read(|c| cardbench_store::outbox::by_message_id(c, &produced.message_id))
        .expect("read")
        .expect("queued")
        .id
}

fn holder(wf: &Workflow, card_id: &str) -> Option<String> {
    wf.store()
        .read(|c| cards::get(c, card_id))
        .expect("read")
        .expect("card")
        .holder
}

#[test]
fn a_card_is_purged_only_after_shipped_ok_plus_the_retention_days() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = Workflow::new(Arc::new(cardbench_store::testing::store_in(dir.path()).expect("store")));
    let produced_outbox = shipped_ok(&wf, "C-SHIPPED");
    request(&wf, "C-WAITING");
    let now = Utc::now();

    let early = wf
        .purge(now + Duration::days(29), 30, &[], false)
        .expect("purge");
    assert_eq!(early.counts.cards, 0, "not yet: {early:?}");
    assert_eq!(holder(&wf, "C-SHIPPED").as_deref(), Some(NAME));

    let dry = wf
        .purge(now + Duration::days(31), 30, &[], true)
        .expect("dry run");
    assert_eq!(dry.card_ids, vec!["C-SHIPPED".to_string()], "{dry:?}");
    assert!(
        dry.counts.inbox_bodies >= 1 && dry.counts.outbox_bodies >= 1 && dry.counts.readouts == 1,
        "{dry:?}"
    );
    assert_eq!(
        holder(&wf, "C-SHIPPED").as_deref(),
        Some(NAME),
        "a dry run changes nothing"
    );

    let done = wf
        .purge(now + Duration::days(31), 30, &[], false)
        .expect("purge");
    assert_eq!(done.card_ids, vec!["C-SHIPPED".to_string()]);
    assert_eq!(
        done.counts, dry.counts,
        "the dry run said what the purge took"
    );
    assert_eq!(holder(&wf, "C-SHIPPED"), None);
    let card = wf
        .store()
        .read(|c| cards::get(c, "C-SHIPPED"))
        .expect("read")
        .expect("card stays");
    assert_eq!(card.status, cards::CardStatus::ShippedOk);
    assert!(
        card.request
            .address
            .recipient
            .as_deref()
            .is_some_and(cardbench_workflow::retention::is_tombstone),
        "{:?}",
        card.request.address
    );
    assert_eq!(
        holder(&wf, "C-WAITING").as_deref(),
        Some(NAME),
        "a card not shipped keeps its data however old"
    );
    let resend = wf.resend("alice", produced_outbox);
    assert!(
        matches!(resend, Err(WorkflowError::InvalidRequest(_))),
        "a purged message is never sent again: {resend:?}"
    );

    let again = wf
        .purge(now + Duration::days(400), 30, &[], false)
        .expect("purge");
    assert!(again.card_ids.is_empty(), "purged once: {again:?}");
}
