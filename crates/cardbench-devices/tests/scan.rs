//! What a barcode scan means, against a real store.

mod common;

use cardbench_devices::scan::{ScanMeaning, interpret_scan};
use cardbench_workflow::ReadoutInput;
use common::{OPERATOR, bench};

fn scan(b: &common::Bench, text: &str, hand: Option<&str>) -> ScanMeaning {
    b.wf.store().read(|c| interpret_scan(c, text, hand)).expect("interpret")
}

#[test]
fn a_card_label_selects_the_card_and_a_shipment_label_opens_the_shipment() {
    let b = bench();
    b.cards(&["C-1".to_owned(), "C-2".to_owned()], &["MIFARE_UID"]);
    assert_eq!(scan(&b, "C-1\r\n", None), ScanMeaning::Card { card_id: "C-1".into() });
    assert_eq!(scan(&b, "c-2", Some("C-1")), ScanMeaning::Card { card_id: "C-2".into() }, "caps lock off on the scanner");
    assert_eq!(scan(&b, "S-00000\t", Some("C-1")), ScanMeaning::Shipment { shipment_id: "S-00000".into() });
}

#[test]
fn a_uid_fills_the_card_in_hand_in_its_normal_form() {
    let b = bench();
    b.cards(&["C-1".to_owned()], &["MIFARE_UID", "PRINT_SERIAL"]);
    match scan(&b, "04:a2:2b:1c", Some("C-1")) {
        ScanMeaning::Readout { card_id, field, readout } => {
            assert_eq!((card_id.as_str(), field.as_str(), readout.value.as_str()), ("C-1", "MIFARE_UID", "04A22B1C"));
            assert_eq!(readout.lsb_first.as_deref(), Some("1C2BA204"));
        }
        other => panic!("expected a readout, got {other:?}"),
    }
    // Free text is not put into PRINT_SERIAL while the UID is also still missing...
    assert!(matches!(scan(&b, "A-17", Some("C-1")), ScanMeaning::BadReadout { ref field, .. } if field == "MIFARE_UID"));
    // ...but once only PRINT_SERIAL is missing, it is.
    b.wf.save_readouts(OPERATOR, "C-1", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A22B1C".into() }], "scan").expect("save");
    assert!(matches!(scan(&b, "A-17", Some("C-1")), ScanMeaning::Readout { ref field, .. } if field == "PRINT_SERIAL"));
    // An explicit label wins.
    assert!(matches!(scan(&b, "PRINT_SERIAL=04A22B1D", Some("C-1")), ScanMeaning::Readout { ref field, .. } if field == "PRINT_SERIAL"));
}

#[test]
fn wrong_formats_and_unknown_text_are_said_so() {
    let b = bench();
    b.cards(&["C-1".to_owned()], &["MIFARE_UID"]);
    match scan(&b, "04A22B", Some("C-1")) {
        ScanMeaning::BadReadout { field, reason, .. } => {
            assert_eq!(field, "MIFARE_UID");
            assert!(reason.contains("4, 7 or 10"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(scan(&b, "hello", None), ScanMeaning::Unknown { .. }));
    assert!(matches!(scan(&b, "   \r\n", Some("C-1")), ScanMeaning::Unknown { .. }));
    assert!(matches!(scan(&b, "ATR=3B00", Some("C-1")), ScanMeaning::BadReadout { ref reason, .. } if reason.contains("does not expect")));
}
