//! NGOC's UID translations filled from one read, by every device path (scan, hot folder, a chip
//! read), against a real store on disk. The PC/SC watch itself is in `pcsc.rs`; its reads go
//! through `apply_chip` as here.

mod common;

use cardbench_devices::config::HotfolderConfig;
use cardbench_devices::hotfolder::{FileOutcome, HotFolder};
use cardbench_devices::reader::{self, ChipRead};
use cardbench_devices::scan::{ScanMeaning, interpret_scan};
use cardbench_devices::DevicesError;
use cardbench_store::readouts;
use cardbench_workflow::{ApplyOutcome, ReadoutInput, WorkflowError};
use common::{OPERATOR, bench};
use serde_json::{Value, json};

const HEX_MSB: &str = "TRANSLATION_MIFARE_HEX_MSB";
const HEX_LSB: &str = "TRANSLATION_MIFARE_HEX_LSB";
const DEC_LSB: &str = "TRANSLATION_MIFARE_DEC_LSB";

fn report_data(b: &common::Bench, card_id: &str) -> Value {
    let rows = b.wf.store().read(|c| readouts::for_card(c, card_id)).expect("readouts");
    Value::Object(rows.into_iter().map(|r| (r.field, Value::String(r.value))).collect())
}

fn all_three() -> Value {
    json!({HEX_MSB: "04A22B1C", HEX_LSB: "1C2BA204", DEC_LSB: "472621572"})
}

#[test]
fn a_scanned_uid_fills_every_translation_of_the_card_in_hand() {
    let b = bench();
    b.cards(&["C-1".to_owned(), "C-2".to_owned()], &[HEX_LSB, HEX_MSB, DEC_LSB]);
    // A bare UID goes into the first missing chip field, read in that field's byte order (LSB).
    let meaning = b.wf.store().read(|c| interpret_scan(c, "1c:2b:a2:04", Some("C-1"))).expect("scan");
    let ScanMeaning::Readout { field, readout, .. } = meaning else { panic!("a readout: {meaning:?}") };
    assert_eq!((field.as_str(), readout.msb_first.as_deref()), (HEX_LSB, Some("04A22B1C")));
    let outcome = b.wf.apply_readouts(OPERATOR, "C-1", &[ReadoutInput { field, value: readout.value }], "scan").expect("apply");
    assert!(matches!(outcome, ApplyOutcome::Produced(ref p) if serde_json::to_value(&p.report_data).ok() == Some(all_three())), "{outcome:?}");
    // Labelled as the reader's MIFARE_UID (most significant byte first): taken for a card that
    // expects only translations of it.
    let meaning = b.wf.store().read(|c| interpret_scan(c, "MIFARE_UID=04112233", Some("C-2"))).expect("scan");
    assert!(matches!(&meaning, ScanMeaning::Readout { field, .. } if field == "MIFARE_UID"), "{meaning:?}");
}

#[test]
fn a_hot_folder_row_with_the_readers_uid_fills_every_translation() {
    let b = bench();
    b.cards(&["C-1".to_owned()], &[HEX_MSB, HEX_LSB, DEC_LSB]);
    let folder = b.dir.path().join("hot");
    // The encoder's column UID is the reader's MIFARE_UID; its ATR column concerns no field here.
    let columns = [("UID".to_owned(), "MIFARE_UID".to_owned())].into();
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, HotfolderConfig { settle_ms: 100, columns, ..Default::default() }).expect("hot folder");
    let file = folder.join("results.csv");
    std::fs::write(&file, "cardId;UID;ATR\nC-1;04:A2:2B:1C;3B00\n").expect("write");
    let report = hot.take(&file).expect("taken");
    assert_eq!(report.outcome, FileOutcome::Processed, "{report:?}");
    assert_eq!(report.produced, 1);
    assert_eq!(report_data(&b, "C-1"), all_three());
}

#[test]
fn a_chip_read_fills_every_translation_and_the_same_chip_is_refused_for_another_card() {
    let b = bench();
    b.cards(&["C-1".to_owned(), "C-2".to_owned()], &[HEX_MSB, HEX_LSB, DEC_LSB]);
    let chip = ChipRead { reader: "R".into(), uid: "04A22B1C".into(), atr: "3B00".into() };
    let outcome = reader::apply_chip(&b.wf, OPERATOR, Some("C-1"), &chip).expect("apply");
    assert!(matches!(outcome, ApplyOutcome::Produced(_)), "{outcome:?}");
    assert_eq!(report_data(&b, "C-1"), all_three());
    let err = reader::apply_chip(&b.wf, OPERATOR, Some("C-2"), &chip).expect_err("the same chip");
    assert!(matches!(err, DevicesError::Workflow(WorkflowError::DuplicateReadout { ref other_card, .. }) if other_card == "C-1"), "{err}");
}
