//! The outbox serves several outbound consumers: each sender claims only its destination's rows.

use cardbench_store::outbox::{self, NGOC, NewOutboxRow, OutboxFilter};

/// Where a second outbound consumer (an HTTP event forwarder) would queue its rows.
const WEBHOOK: &str = "webhook";

fn row<'a>(subject: &'a str, body: &'a str) -> NewOutboxRow<'a> {
    NewOutboxRow { subject, correlation_id: None, body, card_id: Some("C-1"), shipment_id: None, created_at: "2026-11-23T08:00:00.000Z" }
}

#[test]
fn a_row_for_another_destination_is_never_claimed_by_the_ngoc_sender() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = cardbench_store::testing::store_in(dir.path()).expect("open");
    let (webhook, ngoc, webhook_after) = store
        .write(|tx| {
            let a = outbox::insert_for(tx, WEBHOOK, &row("card.produced", "{\"hook\":1}"))?;
            let b = outbox::insert(tx, &row("EXTERNAL_PRODUCTION_CARD_PRODUCED", "{}"))?;
            let c = outbox::insert_for(tx, WEBHOOK, &row("card.produced", "{\"hook\":2}"))?;
            Ok::<_, cardbench_store::StoreError>((a, b, c))
        })
        .expect("queue");
    let now = "2026-11-23T09:00:00.000Z";
    let ids = |destination: &str| -> Vec<i64> {
        store.read(|c| outbox::due(c, destination, now, 100)).expect("due").into_iter().map(|r| r.id).collect()
    };
    assert_eq!(ids(NGOC), [ngoc.id], "NGOC's sender claims only its own row");
    assert_eq!(ids(WEBHOOK), [webhook.id, webhook_after.id], "the other consumer's rows wait for it, in order");

    // Sent by NGOC's sender: the other destination's rows stay pending.
    store.write(|tx| outbox::mark_sent(tx, ngoc.id, now)).expect("mark");
    assert!(ids(NGOC).is_empty());
    assert_eq!(ids(WEBHOOK).len(), 2);
    assert_eq!(store.read(outbox::pending_count).expect("pending"), 2, "the depth counts every destination");

    // A retry time is per destination too.
    store.write(|tx| outbox::mark_failed(tx, webhook.id, "HTTP 503", "2026-11-23T10:00:00.000Z")).expect("fail");
    assert_eq!(store.read(|c| outbox::next_retry_at(c, NGOC)).expect("retry"), None);
    assert_eq!(store.read(|c| outbox::next_retry_at(c, WEBHOOK)).expect("retry").as_deref(), Some("2026-11-23T10:00:00.000Z"));

    // Inspection shows and filters by destination.
    let listed = store.read(|c| outbox::list(c, &OutboxFilter::default())).expect("list");
    let destinations: Vec<&str> = listed.iter().map(|r| r.destination.as_str()).collect();
    assert_eq!(destinations, [WEBHOOK, NGOC, WEBHOOK], "newest first, each with its destination");
    let only = OutboxFilter { destination: Some(NGOC.into()), ..Default::default() };
    let ngoc_rows = store.read(|c| outbox::list(c, &only)).expect("list");
    assert_eq!(ngoc_rows.iter().map(|r| r.id).collect::<Vec<_>>(), [ngoc.id]);
}
