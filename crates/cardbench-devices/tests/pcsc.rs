//! PC/SC through the real pcsc-lite daemon, with the vpcd virtual reader and a virtual card
//! (tests/pcsc/start-pcscd.sh, run by scripts/test.sh). One test, steps in order: there is one
//! reader, and cards are put on and taken off it.
//!
//! Without the stack this test FAILS, unless CARDBENCH_SKIP_PCSC_TESTS=1 says to skip it.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::Duration;

use cardbench_devices::reader::{self, ChipRead, ReaderEvent, ReaderWatch};
use cardbench_devices::DevicesError;
use cardbench_store::cards::CardStatus;
use cardbench_workflow::{ApplyOutcome, WorkflowError};
use common::{OPERATOR, bench};

struct Stack {
    card_control: String,
    reader: String,
}

fn stack() -> Option<Stack> {
    if std::env::var("CARDBENCH_SKIP_PCSC_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("\n!!! PC/SC TESTS SKIPPED: CARDBENCH_SKIP_PCSC_TESTS=1 !!!\n");
        return None;
    }
    let missing = "the PC/SC test stack is not running: eval \"$(bash tests/pcsc/start-pcscd.sh)\" first \
                   (scripts/test.sh does), or set CARDBENCH_SKIP_PCSC_TESTS=1 to skip";
    let card_control = std::env::var("CARDBENCH_PCSC_CARD").unwrap_or_else(|_| panic!("{missing}"));
    let reader = std::env::var("CARDBENCH_PCSC_READER").unwrap_or_else(|_| panic!("{missing}"));
    Some(Stack { card_control, reader })
}

impl Stack {
    fn card(&self, command: &str) {
        let mut stream = UnixStream::connect(&self.card_control).expect("virtual card control socket");
        // A virtual card that does not answer fails the test here, naming the command, instead
        // of holding it until nextest's time limit.
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("read timeout");
        stream.write_all(format!("{command}\n").as_bytes()).expect("send");
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer).expect("answer");
        assert_eq!(answer.trim(), "ok", "virtual card: {command}");
    }
}

fn next(rx: &mpsc::Receiver<ReaderEvent>) -> ReaderEvent {
    rx.recv_timeout(Duration::from_secs(20)).expect("a reader event within 20 s")
}

fn read_card(rx: &mpsc::Receiver<ReaderEvent>) -> ChipRead {
    match next(rx) {
        ReaderEvent::CardRead(chip) => chip,
        other => panic!("expected a card read, got {other:?}"),
    }
}

fn removed(rx: &mpsc::Receiver<ReaderEvent>) {
    match next(rx) {
        ReaderEvent::CardRemoved { .. } => {}
        other => panic!("expected the card removed, got {other:?}"),
    }
}

#[test]
fn cards_on_a_real_pcsc_stack_are_read_applied_and_mixed_up_chips_refused() {
    let Some(stack) = stack() else { return };
    let b = bench();
    b.cards(&["C-1".to_owned(), "C-2".to_owned()], &["MIFARE_UID"]);
    b.cards(&["C-3".to_owned()], &["MIFARE_UID", "ATR"]);

    // A card left on the reader by an earlier run is taken off first.
    stack.card("remove");
    let mut readers = reader::list_readers(None).expect("list readers");
    for _ in 0..50 {
        if readers.iter().all(|r| !r.card_present) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        readers = reader::list_readers(None).expect("list readers");
    }
    // Listing, with and without a name filter.
    assert!(readers.iter().any(|r| r.name == stack.reader && !r.card_present), "{readers:?}");
    assert!(reader::list_readers(Some("no such reader")).expect("list").is_empty());

    let (tx, rx) = mpsc::channel();
    // vpcd offers two slots ("… 00 00", "… 00 01"); the card goes on the first. The filter is a
    // case-insensitive part of the name.
    let watch = ReaderWatch::start(Some(stack.reader.to_lowercase()), tx).expect("watch");
    match next(&rx) {
        ReaderEvent::Attached { reader } => assert_eq!(reader, stack.reader),
        other => panic!("expected the reader attached, got {other:?}"),
    }

    // Insert, read, apply to the selected card: CARD_PRODUCED queued.
    stack.card("insert 04A22B1C");
    let chip = read_card(&rx);
    assert_eq!(chip.uid, "04A22B1C");
    assert_eq!(chip.atr, "3B8F8001804F0CA000000306030001000000006A");
    let outcome = reader::apply_chip(&b.wf, OPERATOR, Some("C-1"), &chip).expect("apply");
    assert!(matches!(outcome, ApplyOutcome::Produced(ref p) if p.report_data["MIFARE_UID"] == "04A22B1C"), "{outcome:?}");
    assert_eq!(b.card("C-1").status, CardStatus::Produced);
    stack.card("remove");
    removed(&rx);

    // The same chip again, for the next card in sequence (C-2): refused, naming C-1; C-2 unchanged.
    stack.card("insert 04A22B1C");
    let chip = read_card(&rx);
    let err = reader::apply_chip(&b.wf, OPERATOR, None, &chip).expect_err("a mixed-up chip");
    assert!(matches!(err, DevicesError::Workflow(WorkflowError::DuplicateReadout { ref other_card, .. }) if other_card == "C-1"), "{err}");
    assert!(err.to_string().contains("card C-1"), "the message names the card: {err}");
    assert_eq!(b.card("C-2").status, CardStatus::Received);
    assert_eq!(b.produced_messages(), 1);
    stack.card("remove");
    removed(&rx);

    // A 7-byte UID for C-2 (the sequence), then a card expecting UID and ATR gets both from one read.
    stack.card("insert 04112233445566");
    let chip = read_card(&rx);
    let outcome = reader::apply_chip(&b.wf, OPERATOR, None, &chip).expect("apply");
    assert!(matches!(outcome, ApplyOutcome::Produced(ref p) if p.card_id == "C-2"), "{outcome:?}");
    stack.card("remove");
    removed(&rx);
    stack.card("insert 04778899AABBCC");
    let chip = read_card(&rx);
    match reader::apply_chip(&b.wf, OPERATOR, Some("C-3"), &chip).expect("apply") {
        ApplyOutcome::Produced(p) => assert_eq!(p.report_data["ATR"], "3B8F8001804F0CA000000306030001000000006A"),
        other => panic!("{other:?}"),
    }
    stack.card("remove");
    removed(&rx);

    // A card without a readable UID.
    stack.card("insert 04DEADBEEF nouid");
    match next(&rx) {
        ReaderEvent::ReadFailed { error: DevicesError::UidRefused { sw, .. }, .. } => assert_eq!(sw, "6A81"),
        other => panic!("expected GET DATA refused, got {other:?}"),
    }
    stack.card("remove");
    removed(&rx);

    // Last (vpcd takes long to see the next card after this): a card lifted off mid-read. A
    // clear error, nothing applied.
    stack.card("insert 04DEADBEEF pull");
    match next(&rx) {
        ReaderEvent::ReadFailed { error, .. } => {
            assert!(matches!(error, DevicesError::CardRemovedEarly { .. }), "{error}");
            assert!(error.to_string().contains("put it back"), "{error}");
        }
        other => panic!("expected a failed read, got {other:?}"),
    }
    stack.card("remove");
    watch.stop();
    assert_eq!(b.produced_messages(), 3);
}
