//! NGOC's report field names (one chip read fills every translation) and external report data
//! (secret, removed after REPORT_OK), against a real SQLite file on disk.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use cardbench_protocol::report_fields::{ByteOrder, FieldKind, FieldSpec, ValueFormat};
use cardbench_protocol::{ReportFieldCatalogue, Subject};
use cardbench_store::audit::{self, AuditFilter};
use cardbench_store::cards::CardStatus;
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter, OutboxRow};
use cardbench_store::readouts;
use cardbench_workflow::{ApplyOutcome, IngestOutcome, ReadoutInput, ReportSettings, Workflow, WorkflowError};
use cardbench_sim::fixtures;
use serde_json::{Value, json};

const HEX_MSB: &str = "TRANSLATION_MIFARE_HEX_MSB";
const HEX_LSB: &str = "TRANSLATION_MIFARE_HEX_LSB";
const DEC_MSB: &str = "TRANSLATION_MIFARE_DEC_MSB";
const DEC_LSB: &str = "TRANSLATION_MIFARE_DEC_LSB";
/// A PIN code distinctive enough to look for in the database file's bytes.
const PIN: &str = "93175824";

struct Bench {
    dir: tempfile::TempDir,
    wf: Workflow,
}

fn bench_with(settings: ReportSettings) -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = cardbench_store::testing::store_in(dir.path()).expect("open store");
    Bench { wf: Workflow::new(Arc::new(store)).with_report_settings(settings), dir }
}

fn bench() -> Bench {
    bench_with(ReportSettings::default())
}

/// The article of every request here (the config may ask for external data per article).
const ARTICLE: &str = "ART-MIFARE";

fn input(field: &str, value: &str) -> ReadoutInput {
    ReadoutInput { field: field.into(), value: value.into() }
}

impl Bench {
    /// The simulator's request (`cardbench_sim::fixtures`) for `card_id` of [`ARTICLE`],
    /// expecting `fields`, and `external` as external report data.
    fn request(&self, card_id: &str, fields: &[&str], external: &[&str]) {
        let mut body = fixtures::request_json(card_id, "S-1");
        body["card"]["articleId"] = json!(ARTICLE);
        body["card"]["expectedReportDataFields"] = json!(fields);
        if !external.is_empty() {
            body["card"]["expectedExternalReportDataFields"] = json!(external);
        }
        let outcome = self.ingest(Subject::RequestSent, &body);
        assert!(matches!(outcome, IngestOutcome::Accepted { .. }), "{outcome:?}");
    }

    fn ingest(&self, subject: Subject, body: &Value) -> IngestOutcome {
        let bytes = serde_json::to_vec(body).expect("json");
        let id = uuid::Uuid::new_v4().to_string();
        let envelope = Envelope { message_id: Some(&id), subject: Some(subject.as_str()), body: &bytes, ..Default::default() };
        self.wf.ingest(&[envelope]).expect("ingest").outcomes.into_iter().next().expect("one outcome")
    }

    fn produced(&self) -> Vec<OutboxRow> {
        let filter = OutboxFilter { subject: Some(Subject::CardProduced.as_str().into()), limit: Some(100), ..Default::default() };
        self.wf.store().read(|c| outbox::list(c, &filter)).expect("outbox")
    }

    fn last_report(&self) -> Value {
        let row = self.produced().into_iter().next().expect("a CARD_PRODUCED");
        serde_json::from_str(&row.body).expect("json body")
    }

    fn stored(&self, card_id: &str) -> BTreeMap<String, String> {
        self.wf.store().read(|c| readouts::for_card(c, card_id)).expect("readouts").into_iter().map(|r| (r.field, r.value)).collect()
    }
}

#[test]
fn a_typed_uid_fills_every_expected_translation_and_the_report_carries_exactly_those_names() {
    let b = bench();
    b.request("C-1", &[HEX_MSB, HEX_LSB, DEC_MSB, DEC_LSB], &[]);
    b.wf.produce("alice", "C-1", &[input("MIFARE_UID", "04:a2:2b:1c")], "typed").expect("a MIFARE_UID fills the translations");
    assert_eq!(
        b.last_report()["reportData"],
        json!({HEX_MSB: "04A22B1C", HEX_LSB: "1C2BA204", DEC_MSB: "77736732", DEC_LSB: "472621572"}),
        "exactly the expected names, in the request's order, each in its byte order and format"
    );
    assert!(!b.stored("C-1").contains_key("MIFARE_UID"), "the source of the translations is not expected, so not stored");

    // Typed in one translation (LSB): the others follow from it.
    b.request("C-2", &[HEX_MSB, HEX_LSB], &[]);
    let status = b.wf.save_readouts("alice", "C-2", &[input(HEX_LSB, "11 22 33 44")], "typed").expect("save");
    assert_eq!(status, CardStatus::ReadoutsCaptured, "one value captured every translation");
    assert_eq!(b.stored("C-2"), BTreeMap::from([(HEX_MSB.into(), "44332211".into()), (HEX_LSB.into(), "11223344".into())]));
    let detail = b.wf.card_detail("C-2").expect("detail");
    assert!(detail.expected.iter().all(|f| f.known_format && f.msb_first.as_deref() == Some("44332211")), "{:?}", detail.expected);
}

#[test]
fn translations_are_validated_like_mifare_uid_and_two_that_disagree_are_refused() {
    let b = bench();
    b.request("C-1", &[HEX_MSB, HEX_LSB], &[]);
    match b.wf.produce("alice", "C-1", &[input(HEX_LSB, "1C2BA2")], "typed") {
        Err(WorkflowError::InvalidReadouts(p)) => assert!(p[0].message.contains("4, 7 or 10"), "{p:?}"),
        other => panic!("a 3-byte UID must be refused: {other:?}"),
    }
    // Both typed, but not the same chip read in two orders.
    match b.wf.produce("alice", "C-1", &[input(HEX_MSB, "04A22B1C"), input(HEX_LSB, "04A22B1C")], "typed") {
        Err(WorkflowError::InvalidReadouts(p)) => assert!(p[0].message.contains("not the same chip"), "{p:?}"),
        other => panic!("disagreeing translations must be refused: {other:?}"),
    }
    b.wf.produce("alice", "C-1", &[input(HEX_MSB, "04A22B1C"), input(HEX_LSB, "1C2BA204")], "typed").expect("the same chip both ways");
    // A field of another kind is still not expected.
    b.request("C-2", &[HEX_MSB], &[]);
    let atr = b.wf.save_readouts("alice", "C-2", &[input("ATR", "3B8F")], "typed");
    assert!(matches!(atr, Err(WorkflowError::InvalidReadouts(_))), "{atr:?}");
}

#[test]
fn the_same_chip_under_another_translation_is_a_duplicate_naming_the_other_card() {
    let b = bench();
    b.request("C-1", &[HEX_LSB], &[]);
    b.request("C-2", &[HEX_MSB], &[]);
    b.request("C-3", &["MIFARE_UID"], &[]);
    b.request("C-4", &[DEC_MSB], &[]);
    b.wf.produce("alice", "C-1", &[input(HEX_LSB, "1C2BA204")], "typed").expect("first card");
    for (card, field, value) in [("C-2", HEX_MSB, "04A22B1C"), ("C-3", "MIFARE_UID", "04a22b1c"), ("C-4", DEC_MSB, "77736732")] {
        match b.wf.produce("alice", card, &[input(field, value)], "typed") {
            Err(WorkflowError::DuplicateReadout { other_card, .. }) => assert_eq!(other_card, "C-1", "{card}"),
            other => panic!("{card}: the same chip as C-1 (LSB there, {field} here) must be refused: {other:?}"),
        }
    }
    assert!(b.stored("C-2").is_empty(), "a refusal stores nothing");
}

#[test]
fn a_field_added_in_the_config_is_filled_from_the_same_read_and_unknown_without_it() {
    let extra = BTreeMap::from([(
        "CHIP_NO".to_owned(),
        FieldSpec { kind: FieldKind::MifareUid, order: ByteOrder::Lsb, format: ValueFormat::Dec },
    )]);
    let catalogue = ReportFieldCatalogue::with_extra(&extra).expect("valid");
    let b = bench_with(ReportSettings { catalogue, ..Default::default() });
    b.request("C-1", &["CHIP_NO", HEX_MSB], &[]);
    b.wf.produce("alice", "C-1", &[input("MIFARE_UID", "04A22B1C")], "reader").expect("produce");
    assert_eq!(b.last_report()["reportData"], json!({"CHIP_NO": "472621572", HEX_MSB: "04A22B1C"}));
    // Another card typed in the configured field: the same chip.
    b.request("C-2", &[HEX_LSB], &[]);
    b.request("C-3", &["CHIP_NO"], &[]);
    let dup = b.wf.produce("alice", "C-3", &[input("CHIP_NO", "472621572")], "typed");
    assert!(matches!(&dup, Err(WorkflowError::DuplicateReadout { other_card, .. }) if other_card == "C-1"), "{dup:?}");

    // Without the config CHIP_NO is free text: kept as typed, no chip fills it.
    let plain = bench();
    plain.request("C-1", &["CHIP_NO"], &[]);
    let refused = plain.wf.save_readouts("alice", "C-1", &[input("MIFARE_UID", "04A22B1C")], "typed");
    assert!(matches!(refused, Err(WorkflowError::InvalidReadouts(_))), "{refused:?}");
    plain.wf.produce("alice", "C-1", &[input("CHIP_NO", " no. 17 ")], "typed").expect("free text");
    assert_eq!(plain.last_report()["reportData"], json!({"CHIP_NO": "no. 17"}));
}

#[test]
fn a_hot_folder_batch_fills_translations_from_a_mifare_uid_column() {
    let b = bench();
    b.request("C-1", &[HEX_MSB, HEX_LSB], &[]);
    let rows = vec![("C-1".to_owned(), vec![input("MIFARE_UID", "04A22B1C"), input("PRINT_SERIAL", "P-1")])];
    let (results, ()) = b.wf.apply_readout_batch("alice", &rows, "hotfolder", true, |_, _| Ok(())).expect("batch");
    assert!(matches!(&results[0], Ok(ApplyOutcome::Produced(_))), "{results:?}");
    assert_eq!(b.last_report()["reportData"], json!({HEX_MSB: "04A22B1C", HEX_LSB: "1C2BA204"}));
}

#[test]
fn external_report_data_is_required_reported_masked_and_validates_against_the_schema() {
    let b = bench();
    b.request("C-1", &[HEX_LSB], &["PIN_CODE"]);
    let missing = b.wf.produce("alice", "C-1", &[input("MIFARE_UID", "04A22B1C")], "typed");
    assert!(matches!(&missing, Err(WorkflowError::MissingReadouts { missing, .. }) if missing == &["PIN_CODE"]), "{missing:?}");
    let empty = b.wf.produce("alice", "C-1", &[input("PIN_CODE", "  ")], "typed");
    match empty {
        Err(e) => assert!(!e.to_string().contains(PIN)),
        Ok(_) => panic!("an empty PIN is refused"),
    }
    // A refused produce keeps nothing: both again.
    b.wf.produce("alice", "C-1", &[input("MIFARE_UID", "04A22B1C"), input("PIN_CODE", PIN)], "typed").expect("produce");
    let body = b.last_report();
    assert_eq!(body["reportData"], json!({HEX_LSB: "1C2BA204"}));
    assert_eq!(body["externalReportData"], json!({"PIN_CODE": PIN}));
    let problems = cardbench_protocol::validate_schema::check(Subject::CardProduced, &body);
    assert_eq!(problems, vec![], "{body}");

    let detail = b.wf.card_detail("C-1").expect("detail");
    let shown = serde_json::to_string(&detail).expect("json");
    assert!(!shown.contains(PIN), "the card detail never carries the secret: {shown}");
    let pin = detail.expected.iter().find(|f| f.field == "PIN_CODE").expect("listed");
    assert!(pin.secret && pin.value.as_deref() == Some(cardbench_workflow::secrets::MASK), "{pin:?}");
    let row = b.produced().remove(0);
    assert!(!cardbench_workflow::secrets::mask_body(&row.body).contains(PIN), "the queue inspector's view is masked");

    // A card without external data sends no externalReportData key at all.
    b.request("C-2", &["MIFARE_UID"], &[]);
    b.wf.produce("alice", "C-2", &[input("MIFARE_UID", "04112233")], "typed").expect("produce");
    assert!(b.last_report().get("externalReportData").is_none());
}

#[test]
fn external_report_data_may_be_asked_for_by_the_config_per_article() {
    let settings = ReportSettings { external_by_article: BTreeMap::from([(ARTICLE.into(), vec!["PIN_CODE".into()])]), ..Default::default() };
    let b = bench_with(settings);
    b.request("C-1", &["MIFARE_UID"], &[]);
    let missing = b.wf.produce("alice", "C-1", &[input("MIFARE_UID", "04A22B1C")], "typed");
    assert!(matches!(&missing, Err(WorkflowError::MissingReadouts { missing, .. }) if missing == &["PIN_CODE"]), "{missing:?}");
    b.wf.produce("alice", "C-1", &[input("MIFARE_UID", "04A22B1C"), input("PIN_CODE", PIN)], "typed").expect("produce");
    assert_eq!(b.last_report()["externalReportData"], json!({"PIN_CODE": PIN}));
}

/// A `tracing` writer into a buffer the test reads afterwards.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything this test binary logs, at every level, from every thread. Global, not a
/// thread's default: with `set_default`, events of a callsite first reached by another thread
/// (the store's checkpoint thread, another test) could be filtered out for good, and the check
/// below then ran on an empty log in about one run of three.
fn captured_log() -> Captured {
    static LOG: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber =
            tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber of this test binary");
        log
    })
    .clone()
}

/// Every byte of the data directory's files (database, write-ahead log, shared memory).
fn all_bytes(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .expect("data dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).expect("read file")))
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn after_report_ok_the_secret_is_gone_from_the_store_and_was_never_logged() {
    let log = captured_log();

    let b = bench();
    b.request("C-1", &[HEX_MSB, HEX_LSB], &["PIN_CODE"]);
    // A first production, spoiled: its body also held a PIN.
    b.wf.produce("alice", "C-1", &[input("MIFARE_UID", "04A22B1C"), input("PIN_CODE", "55500011")], "typed").expect("first");
    b.wf.spoil("alice", "C-1", "misprint").expect("spoil");
    let produced = b.wf.produce("alice", "C-1", &[input("MIFARE_UID", "04A22B1C"), input("PIN_CODE", PIN)], "typed").expect("again");
    assert!(b.stored("C-1").values().any(|v| v == PIN), "kept until NGOC has it");

    let ok = b.ingest(Subject::ReportOk, &json!({"cardId": "C-1", "correlationId": produced.message_id}));
    assert!(matches!(ok, IngestOutcome::Accepted { .. }), "{ok:?}");

    // The readout and both outbox bodies hold a tombstone; the rows are still there, valid JSON.
    let stored = b.stored("C-1");
    assert!(stored["PIN_CODE"].starts_with("<removed after REPORT_OK "), "{stored:?}");
    assert_eq!(stored[HEX_LSB], "1C2BA204", "report data stays");
    let rows = b.produced();
    assert_eq!(rows.len(), 2, "the outbox rows stay");
    for row in &rows {
        let body: Value = serde_json::from_str(&row.body).expect("still JSON");
        let pin = body["externalReportData"]["PIN_CODE"].as_str().expect("text");
        assert!(pin.starts_with("<removed after REPORT_OK "), "{body}");
        assert_eq!(body["reportData"][HEX_MSB], "04A22B1C");
    }
    // NGOC takes it back (an ERROR on that report): the PIN must be captured again, not sent as
    // its tombstone.
    let error = json!({"correlationId": produced.message_id, "errorCode": "INVALID_REPORT_DATA", "details": "PIN rejected", "cardId": "C-1"});
    assert!(matches!(b.ingest(Subject::Error, &error), IngestOutcome::Accepted { .. }));
    let again = b.wf.produce("alice", "C-1", &[], "typed");
    assert!(matches!(&again, Err(WorkflowError::MissingReadouts { missing, .. }) if missing == &["PIN_CODE"]), "{again:?}");
    let resend = b.wf.resend("alice", rows[0].id);
    assert!(matches!(resend, Err(WorkflowError::InvalidRequest(_))), "a tombstoned body is never sent again: {resend:?}");
    let audit = b.wf.store().read(|c| audit::list(c, &AuditFilter { card_id: Some("C-1".into()), ..Default::default() })).expect("audit");
    let removal = audit.iter().find(|a| a.action == cardbench_workflow::secrets::REMOVED).expect("the removal is audited");
    assert_eq!(removal.details.as_ref().map(|d| d["fields"].clone()), Some(json!(["PIN_CODE"])), "{removal:?}");

    // Every table, as text.
    let dump: String = b
        .wf
        .store()
        .read(cardbench_store::testing::dump_all_tables)
        .expect("dump");
    for secret in [PIN, "55500011"] {
        assert!(!dump.contains(secret), "{secret} is still in a table");
    }
    // The file's bytes, once the store is closed (the write-ahead log copied in and removed).
    let Bench { dir, wf } = b;
    drop(wf);
    for (name, bytes) in all_bytes(dir.path()) {
        for secret in [PIN, "55500011"] {
            assert!(!contains(&bytes, secret), "{secret} is still in the bytes of {name}");
        }
    }
    let log = String::from_utf8_lossy(&log.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(!log.is_empty(), "the log was captured");
    for secret in [PIN, "55500011"] {
        assert!(!log.contains(secret), "{secret} was logged");
    }
}
