//! Limits on what comes in (issue 13): a hostile body gets one small answer, and values quoted
//! from a message are cut short. Real SQLite file on disk, the real ingest.

use std::sync::Arc;

use cardbench_protocol::problem::{MAX_PROBLEMS_LISTED, MAX_QUOTED_BYTES};
use cardbench_protocol::{ErrorMessage, Subject};
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_workflow::{IngestOutcome, Workflow};
use cardbench_sim::fixtures;
use serde_json::{Value, json};

/// What an ERROR answer may weigh: far below the broker's smallest message size (Service Bus
/// standard: 256 KB).
const ANSWER_BUDGET: usize = 64 * 1024;

struct Bench {
    _dir: tempfile::TempDir,
    wf: Workflow,
}

fn bench() -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = cardbench_store::testing::store_in(dir.path()).expect("open store");
    Bench { _dir: dir, wf: Workflow::new(Arc::new(store)) }
}

impl Bench {
    fn send(&self, message_id: &str, subject: &str, body: &[u8]) -> IngestOutcome {
        let envelope = Envelope { message_id: Some(message_id), subject: Some(subject), body, ..Default::default() };
        let report = self.wf.ingest(&[envelope]).expect("ingest commits");
        report.outcomes.into_iter().next().expect("one outcome")
    }

    /// The ERROR bodies queued, as sent.
    fn errors(&self) -> Vec<String> {
        let filter = OutboxFilter { subject: Some(Subject::Error.as_str().into()), limit: Some(1000), ..Default::default() };
        self.wf.store().read(|c| outbox::list(c, &filter)).expect("read").into_iter().map(|row| row.body).collect()
    }
}

/// The simulator's request (`cardbench_sim::fixtures`).
fn request() -> Value {
    fixtures::request_json("C-1", "S-1")
}

#[test]
fn a_body_with_100000_bad_items_gets_one_small_error_listing_50_and_counting_the_rest() {
    let b = bench();
    let mut body = request();
    // 100,000 accessories that are not objects, and 100,000 report field names that are not
    // strings: every one is a problem.
    body["accessories"] = Value::Array(vec![json!(5); 100_000]);
    body["card"]["expectedReportDataFields"] = Value::Array(vec![json!(true); 100_000]);
    let bytes = serde_json::to_vec(&body).expect("json");
    let outcome = b.send("m-1", Subject::RequestSent.as_str(), &bytes);
    let IngestOutcome::Rejected { code, reason, .. } = outcome else { panic!("refused: {outcome:?}") };
    assert_eq!(code, "INVALID_MESSAGE");
    assert!(reason.len() <= 5000, "the inbox record's reason is short: {} bytes", reason.len());
    let errors = b.errors();
    assert_eq!(errors.len(), 1, "one ERROR");
    assert!(errors[0].len() < ANSWER_BUDGET, "the ERROR is {} bytes", errors[0].len());
    let error: ErrorMessage = serde_json::from_str(&errors[0]).expect("ERROR body");
    assert_eq!(error.problems.len(), MAX_PROBLEMS_LISTED + 1, "50 problems and a count");
    let count = error.problems.last().expect("count");
    assert_eq!(count.path, "");
    let not_listed: u64 = count.message.split(' ').next().and_then(|n| n.parse().ok()).expect("a count");
    // Each bad item is one problem, and the arrays' maxItems one each.
    assert!(not_listed >= 200_000 - 50, "{}", count.message);
    assert!(error.problems.iter().any(|p| p.message == "must have at most 64 items"), "{:?}", &error.problems[..5]);
}

#[test]
fn long_keys_and_names_in_a_bad_body_are_cut_short_in_the_answer() {
    let b = bench();
    let mut body = request();
    let long = "K".repeat(100_000);
    // 60 card elements whose keys are 100 KB each and whose values are not strings: each
    // problem's path is made of its key.
    let elements: serde_json::Map<String, Value> = (0..60).map(|i| (format!("{long}{i}"), json!(1))).collect();
    body["card"]["cardElements"] = Value::Object(elements);
    // A name listed twice is quoted in its problem.
    body["card"]["expectedReportDataFields"] = json!([long, long]);
    let bytes = serde_json::to_vec(&body).expect("json");
    let outcome = b.send("m-1", Subject::RequestSent.as_str(), &bytes);
    assert!(matches!(&outcome, IngestOutcome::Rejected { code, .. } if code == "INVALID_MESSAGE"), "{outcome:?}");
    let errors = b.errors();
    assert!(errors[0].len() < ANSWER_BUDGET, "the ERROR is {} bytes", errors[0].len());
    let error: ErrorMessage = serde_json::from_str(&errors[0]).expect("ERROR body");
    assert!(error.problems.iter().all(|p| p.path.len() <= 128 && p.message.len() <= 256), "{:?}", error.problems);
}

#[test]
fn an_unknown_subject_is_quoted_cut_short() {
    let b = bench();
    let subject = format!("EXTERNAL_PRODUCTION_{}", "X".repeat(200_000));
    let outcome = b.send("m-1", &subject, b"{}");
    let IngestOutcome::Rejected { code, reason, .. } = outcome else { panic!("refused: {outcome:?}") };
    assert_eq!(code, "UNKNOWN_SUBJECT");
    assert!(reason.starts_with("subject \"EXTERNAL_PRODUCTION_XXX"), "{reason}");
    assert!(reason.len() < MAX_QUOTED_BYTES + 100, "the record quotes the subject cut short: {} bytes", reason.len());
    let error: ErrorMessage = serde_json::from_str(&b.errors()[0]).expect("ERROR body");
    assert!(error.details.len() < MAX_QUOTED_BYTES + 100, "{}", error.details);
}

#[test]
fn a_card_id_at_the_bound_is_taken_and_one_beyond_it_is_refused() {
    let b = bench();
    let mut body = request();
    body["card"]["cardId"] = json!("C".repeat(256));
    let outcome = b.send("m-1", Subject::RequestSent.as_str(), &serde_json::to_vec(&body).expect("json"));
    assert!(matches!(outcome, IngestOutcome::Accepted { .. }), "{outcome:?}");
    body["card"]["cardId"] = json!("D".repeat(257));
    let outcome = b.send("m-2", Subject::RequestSent.as_str(), &serde_json::to_vec(&body).expect("json"));
    assert!(matches!(&outcome, IngestOutcome::Rejected { code, .. } if code == "INVALID_MESSAGE"), "{outcome:?}");
    let error: ErrorMessage = serde_json::from_str(&b.errors()[0]).expect("ERROR body");
    assert_eq!(error.problems, vec![cardbench_protocol::Problem::new("card.cardId", "must be at most 256 characters long")]);
}
