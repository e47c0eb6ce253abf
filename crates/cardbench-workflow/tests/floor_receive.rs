//! Issue 15: competing consumers. The same message received by two stations at once (Service Bus
//! redelivers a message whose lock ran out to another consumer) is taken into the worklist once:
//! a unique key refuses the second accepted row, that station lets the message go back, and when
//! it comes again it is a duplicate. REPORT_OK received twice at once takes effect once. Two
//! stores on one database: PostgreSQL with `CARDBENCH_TEST_ENGINE=postgres`, one SQLite file
//! otherwise.

use std::sync::{Arc, Barrier};

use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::inbox::{Envelope, InboxFilter};
use cardbench_store::{events, inbox};
use cardbench_workflow::{IngestOutcome, ReadoutInput, Workflow};

fn two_stations(dir: &std::path::Path) -> (Workflow, Workflow) {
    let (a, b) = cardbench_store::testing::two_stores_in(dir).expect("two stations on one database");
    (Workflow::new(Arc::new(a)), Workflow::new(Arc::new(b)))
}

fn receive(wf: &Workflow, id: &str, subject: Subject, body: &[u8], delivery_count: u32) -> IngestOutcome {
    let envelope = Envelope { message_id: Some(id), subject: Some(subject.as_str()), body, delivery_count, ..Default::default() };
    wf.ingest(&[envelope]).expect("ingest commits").outcomes.remove(0)
}

/// Both stations receive the message at once; one that is told to let it go gets it again.
fn race(a: &Workflow, b: &Workflow, id: &str, subject: Subject, body: &[u8]) -> Vec<IngestOutcome> {
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|wf| {
            let (go, id, body) = (barrier.clone(), id.to_owned(), body.to_vec());
            std::thread::spawn(move || {
                go.wait();
                match receive(&wf, &id, subject, &body, 0) {
                    IngestOutcome::Retry { .. } => receive(&wf, &id, subject, &body, 1),
                    other => other,
                }
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("station")).collect()
}

#[test]
fn a_message_received_by_two_stations_at_once_is_taken_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = two_stations(dir.path());
    for i in 0..25 {
        let (card, id) = (format!("C-{i}"), format!("req-{i}"));
        let body = serde_json::to_vec(&fixtures::request_json(&card, "S-1")).expect("json");
        let outcomes = race(&a, &b, &id, Subject::RequestSent, &body);
        let accepted = outcomes.iter().filter(|o| matches!(o, IngestOutcome::Accepted { .. })).count();
        assert_eq!(accepted, 1, "round {i}: {outcomes:?}");
        assert!(outcomes.iter().all(|o| matches!(o, IngestOutcome::Accepted { .. } | IngestOutcome::Duplicate { .. })), "{outcomes:?}");

        let produced = a.produce("ana", &card, &[ReadoutInput { field: "MIFARE_UID".into(), value: format!("04A1B2C3{i:06X}") }], "typed");
        let ok = serde_json::to_vec(&serde_json::json!({"cardId": card, "correlationId": produced.expect("produce").message_id})).expect("json");
        let outcomes = race(&a, &b, &format!("ok-{i}"), Subject::ReportOk, &ok);
        let accepted = outcomes.iter().filter(|o| matches!(o, IngestOutcome::Accepted { .. })).count();
        assert_eq!(accepted, 1, "round {i}: REPORT_OK {outcomes:?}");
    }
    let rows = a.store().read(|c| inbox::list(c, &InboxFilter { limit: Some(10_000), ..Default::default() })).expect("inbox");
    let accepted: Vec<_> = rows.iter().filter(|r| r.outcome == inbox::Outcome::Accepted).collect();
    assert_eq!(accepted.len(), 50, "each message accepted once");
    let logged = a.store().read(|c| events::after(c, 0, 10_000)).expect("events");
    for topic in ["REQUEST_RECEIVED", "REPORT_OK"] {
        assert_eq!(logged.iter().filter(|e| e.topic == topic).count(), 25, "{topic} once per card");
    }
}
