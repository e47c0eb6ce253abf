//! What the HTTP senders do to their rows beyond sent/failed: close a row a receiver refused for
//! good, and make a resumed subscriber's waiting rows due at once.

use cardbench_store::Store;
use cardbench_store::outbox::{self, NewOutboxRow};

const HOOK: &str = "webhook:erp";

fn row(body: &str) -> NewOutboxRow<'_> {
    NewOutboxRow { subject: "CARD_PRODUCED", correlation_id: Some("e-1"), body, card_id: None, shipment_id: None, created_at: "2026-11-23T08:00:00.000Z" }
}

#[test]
fn a_closed_row_leaves_the_line_with_its_reason_and_a_resend_puts_it_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_in(dir.path()).expect("open");
    let (a, b) = store
        .write(|tx| Ok::<_, cardbench_store::StoreError>((outbox::insert_for(tx, HOOK, &row("{}"))?, outbox::insert_for(tx, HOOK, &row("{}"))?)))
        .expect("queue");
    let now = "2026-11-23T09:00:00.000Z";
    store.write(|tx| outbox::close(tx, a.id, "HTTP 400", now)).expect("close");
    let closed = store.read(|c| outbox::get(c, a.id)).expect("read").expect("row");
    assert_eq!((closed.sent_at.as_deref(), closed.last_error.as_deref(), closed.attempts), (Some(now), Some("HTTP 400"), 1));
    let due: Vec<i64> = store.read(|c| outbox::due(c, HOOK, now, 10)).expect("due").into_iter().map(|r| r.id).collect();
    assert_eq!(due, [b.id], "a closed row is not retried");
    store.write(|tx| outbox::resend(tx, a.id, now)).expect("resend");
    assert_eq!(store.read(|c| outbox::due(c, HOOK, now, 10)).expect("due").len(), 2, "a resend puts it back");
}

#[test]
fn due_now_brings_waiting_rows_of_one_destination_forward() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_in(dir.path()).expect("open");
    let (a, other) = store
        .write(|tx| Ok::<_, cardbench_store::StoreError>((outbox::insert_for(tx, HOOK, &row("{}"))?, outbox::insert_for(tx, "webhook:mes", &row("{}"))?)))
        .expect("queue");
    let later = "2026-11-23T10:00:00.000Z";
    store
        .write(|tx| {
            outbox::mark_failed(tx, a.id, "HTTP 503", later)?;
            outbox::mark_failed(tx, other.id, "HTTP 503", later)
        })
        .expect("fail");
    let now = "2026-11-23T09:00:00.000Z";
    assert!(store.read(|c| outbox::due(c, HOOK, now, 10)).expect("due").is_empty());
    assert_eq!(store.write(|tx| outbox::due_now(tx, HOOK, now)).expect("due now"), 1);
    assert_eq!(store.read(|c| outbox::due(c, HOOK, now, 10)).expect("due").len(), 1);
    assert!(store.read(|c| outbox::due(c, "webhook:mes", now, 10)).expect("due").is_empty(), "only that destination");
}
