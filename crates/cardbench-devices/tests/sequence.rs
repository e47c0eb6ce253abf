//! The production sequence a PC/SC reader fills: the same "next card to produce" as the
//! production screen and the CLI's job export (`cardbench_workflow::lifecycle`).

mod common;

use cardbench_devices::reader::next_in_sequence;
use cardbench_protocol::Subject;
use cardbench_store::cards::CardStatus;
use cardbench_store::inbox::Envelope;
use cardbench_workflow::ReadoutInput;

fn uid(value: &str) -> Vec<ReadoutInput> {
    vec![ReadoutInput { field: "MIFARE_UID".into(), value: value.into() }]
}

#[test]
fn a_card_ngoc_answered_with_error_is_next_to_be_made_again() {
    let b = common::bench();
    let ids = common::ids("C-", 3);
    b.cards(&ids, &["MIFARE_UID"]);
    // The oldest card is produced, and NGOC refuses its report: it must be made again.
    let produced = b.wf.produce(common::OPERATOR, &ids[0], &uid("04A22B1C"), "typed").expect("produce");
    let error = serde_json::json!({"correlationId": produced.message_id, "errorCode": "INVALID_REPORT_DATA", "details": "wrong UID", "cardId": ids[0]});
    let body = serde_json::to_vec(&error).expect("json");
    let message_id = uuid::Uuid::new_v4().to_string();
    b.wf.ingest(&[Envelope { message_id: Some(&message_id), subject: Some(Subject::Error.as_str()), body: &body, ..Default::default() }])
        .expect("ingest");
    assert_eq!(b.card(&ids[0]).status, CardStatus::ReportError);

    assert_eq!(b.wf.store().read(next_in_sequence).expect("read").as_deref(), Some(ids[0].as_str()), "the card to make again comes first");

    // Made again: the next one is the oldest received.
    b.wf.produce(common::OPERATOR, &ids[0], &uid("04A22B1D"), "reader").expect("produce again");
    assert_eq!(b.wf.store().read(next_in_sequence).expect("read").as_deref(), Some(ids[1].as_str()));
}
