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

    assert_eq!(next_in_sequence(&b.wf, common::OPERATOR).expect("take next").as_deref(), Some(ids[0].as_str()), "the card to make again comes first");

    // Made again: the next one is the oldest received.
    b.wf.produce(common::OPERATOR, &ids[0], &uid("04A22B1D"), "reader").expect("produce again");
    assert_eq!(next_in_sequence(&b.wf, common::OPERATOR).expect("take next").as_deref(), Some(ids[1].as_str()));
}

/// Issue 15: a chip read with no card in hand goes to the next card no other station holds,
/// taken through the claiming path; a card held elsewhere is refused when named.
#[test]
fn a_chip_with_no_card_in_hand_skips_a_card_held_at_another_station() {
    let b = common::bench();
    let ids = common::ids("H-", 2);
    b.cards(&ids, &["MIFARE_UID"]);
    let here = b.wf.clone().with_station("here");
    let other = cardbench_workflow::Workflow::new(std::sync::Arc::new(
        cardbench_store::Store::open_in(&b.dir.path().join("data")).expect("a second process on the store"),
    ))
    .with_station("there");
    other.take_card("Bo", &ids[0]).expect("take").expect("held");

    let chip = cardbench_devices::ChipRead { reader: "virtual".into(), uid: "04A22B1C".into(), atr: "3B8F".into() };
    let applied = cardbench_devices::reader::apply_chip(&here, common::OPERATOR, None, &chip).expect("applied to the next free card");
    let cardbench_workflow::ApplyOutcome::Produced(p) = applied else { panic!("produced: {applied:?}") };
    assert_eq!(p.card_id, ids[1], "the card held at the other station is skipped");
    assert_eq!(b.card(&ids[0]).status, CardStatus::Received);

    let chip = cardbench_devices::ChipRead { uid: "04A22B1D".into(), ..chip };
    let err = cardbench_devices::reader::apply_chip(&here, common::OPERATOR, Some(&ids[0]), &chip).expect_err("held elsewhere");
    assert!(err.to_string().contains("taken at there by Bo"), "{err}");
}
