//! The embedded queues against real files in temporary directories.

use std::time::{Duration, Instant};

use cardbench_transport::embedded::{EmbeddedOptions, EmbeddedQueues, RawMessage};
use cardbench_transport::{Connector, DeliveryTag, OutboundMessage, TransportErrorKind};

fn message(id: &str, body: &[u8]) -> OutboundMessage {
    OutboundMessage {
        message_id: id.to_owned(),
        subject: "EXTERNAL_PRODUCTION_REQUEST_SENT".into(),
        correlation_id: Some(format!("corr-{id}")),
        content_type: "application/json".into(),
        body: body.to_vec(),
    }
}

async fn send_all(queues: &EmbeddedQueues, queue: &str, messages: &[OutboundMessage]) {
    let mut sender = queues.sender(queue).await.expect("sender");
    for r in sender.send(messages).await {
        r.expect("sent");
    }
}

fn ids(deliveries: &[cardbench_transport::Delivery]) -> Vec<String> {
    deliveries.iter().map(|d| d.message_id.clone().unwrap_or_default()).collect()
}

#[tokio::test]
async fn messages_come_back_in_order_with_their_envelope() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = EmbeddedQueues::open(dir.path()).expect("open");
    let batch: Vec<_> = (0..10).map(|i| message(&format!("m{i}"), format!("{{\"n\":{i}}}").as_bytes())).collect();
    send_all(&queues, "q", &batch[..4]).await;
    send_all(&queues, "q", &batch[4..]).await;
    let mut rx = queues.receiver("q").await.expect("receiver");
    let first = rx.receive(3, Duration::from_millis(100)).await.expect("receive");
    let rest = rx.receive(100, Duration::from_millis(100)).await.expect("receive");
    assert_eq!(ids(&first), ["m0", "m1", "m2"]);
    assert_eq!(ids(&rest), (3..10).map(|i| format!("m{i}")).collect::<Vec<_>>());
    let d = &first[1];
    assert_eq!(d.subject.as_deref(), Some("EXTERNAL_PRODUCTION_REQUEST_SENT"));
    assert_eq!(d.correlation_id.as_deref(), Some("corr-m1"));
    assert_eq!(d.content_type.as_deref(), Some("application/json"));
    assert_eq!(d.body, b"{\"n\":1}");
    assert_eq!(d.delivery_count, 0);
}

#[tokio::test]
async fn a_locked_message_is_not_received_again_and_a_released_one_comes_back_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = EmbeddedQueues::open(dir.path()).expect("open");
    send_all(&queues, "q", &[message("a", b"1"), message("b", b"2")]).await;
    let mut rx = queues.receiver("q").await.expect("receiver");
    let got = rx.receive(1, Duration::from_millis(50)).await.expect("receive");
    assert_eq!(ids(&got), ["a"]);
    let next = rx.receive(10, Duration::from_millis(50)).await.expect("receive");
    assert_eq!(ids(&next), ["b"], "a is locked: not delivered again");
    assert!(rx.receive(10, Duration::from_millis(50)).await.expect("receive").is_empty());

    rx.release(&[got[0].tag]).await.expect("release");
    let again = rx.receive(10, Duration::from_millis(50)).await.expect("receive");
    assert_eq!(ids(&again), ["a"]);
    assert_eq!(again[0].delivery_count, 1, "released once");
    assert_ne!(again[0].tag, got[0].tag, "a redelivery has a new tag");
    // The old tag no longer settles anything.
    let err = rx.accept(&[got[0].tag]).await.expect_err("stale tag");
    assert_eq!(err.kind, TransportErrorKind::LockLost);
    let err = rx.release(&[DeliveryTag(9_999)]).await.expect_err("unknown tag");
    assert_eq!(err.kind, TransportErrorKind::LockLost);
}

#[tokio::test]
async fn a_receiver_dropped_without_settling_leaves_its_messages_to_the_next() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = EmbeddedQueues::open(dir.path()).expect("open");
    send_all(&queues, "q", &[message("a", b"1")]).await;
    {
        let mut rx = queues.receiver("q").await.expect("receiver");
        assert_eq!(ids(&rx.receive(10, Duration::from_millis(50)).await.expect("receive")), ["a"]);
    }
    let mut rx = queues.receiver("q").await.expect("receiver");
    let got = rx.receive(10, Duration::from_millis(50)).await.expect("receive");
    assert_eq!(ids(&got), ["a"]);
}

#[tokio::test]
async fn accept_removes_for_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = EmbeddedQueues::open(dir.path()).expect("open");
    send_all(&queues, "q", &[message("a", b"1"), message("b", b"2"), message("c", b"3")]).await;
    assert_eq!(queues.depth("q").await.expect("depth"), 3);
    let mut rx = queues.receiver("q").await.expect("receiver");
    let got = rx.receive(10, Duration::from_millis(50)).await.expect("receive");
    rx.accept(&[got[0].tag, got[2].tag]).await.expect("accept");
    assert_eq!(queues.depth("q").await.expect("depth"), 1);
    drop(rx);
    let mut rx = queues.receiver("q").await.expect("receiver");
    assert_eq!(ids(&rx.receive(10, Duration::from_millis(50)).await.expect("receive")), ["b"]);
    let err = rx.accept(&[got[0].tag]).await.expect_err("a tag of another receiver");
    assert_eq!(err.kind, TransportErrorKind::LockLost);
}

#[tokio::test]
async fn a_message_id_seen_within_the_window_is_dropped_and_reported_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = EmbeddedQueues::open(dir.path()).expect("open");
    let mut sender = queues.sender("q").await.expect("sender");
    let results = sender.send(&[message("a", b"first"), message("a", b"same id in the batch")]).await;
    assert!(results.iter().all(Result::is_ok));
    let mut rx = queues.receiver("q").await.expect("receiver");
    let got = rx.receive(10, Duration::from_millis(50)).await.expect("receive");
    rx.accept(&[got[0].tag]).await.expect("accept");
    // Still a duplicate after the first copy was consumed, as on Service Bus.
    assert!(sender.send(&[message("a", b"again"), message("b", b"new")]).await.iter().all(Result::is_ok));
    // Per queue: the same id on another queue is a different message.
    send_all(&queues, "other", &[message("a", b"elsewhere")]).await;
    let got: Vec<_> = rx.receive(10, Duration::from_millis(50)).await.expect("receive");
    assert_eq!(ids(&got), ["b"]);
    assert_eq!(queues.depth("other").await.expect("depth"), 1);

    // Window zero: detection off.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let options = EmbeddedOptions { duplicate_window: Duration::ZERO, ..EmbeddedOptions::default() };
    let plain = EmbeddedQueues::open_file(&dir2.path().join("q.sqlite"), options).expect("open");
    send_all(&plain, "q", &[message("a", b"1"), message("a", b"1")]).await;
    assert_eq!(plain.depth("q").await.expect("depth"), 2);
}

#[tokio::test]
async fn the_window_expires() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = EmbeddedOptions { duplicate_window: Duration::from_millis(300), ..EmbeddedOptions::default() };
    let queues = EmbeddedQueues::open_file(&dir.path().join("q.sqlite"), options).expect("open");
    send_all(&queues, "q", &[message("a", b"1")]).await;
    send_all(&queues, "q", &[message("a", b"1")]).await;
    assert_eq!(queues.depth("q").await.expect("depth"), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    send_all(&queues, "q", &[message("a", b"1")]).await;
    assert_eq!(queues.depth("q").await.expect("depth"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connectors_on_one_file_see_each_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    // As the daemon and `cardbench sim` would, in two processes: two independent opens.
    let daemon = EmbeddedQueues::open(dir.path()).expect("open");
    let sim = EmbeddedQueues::open(dir.path()).expect("open");
    let mut rx = daemon.receiver("requests").await.expect("receiver");
    let waiting = tokio::spawn(async move {
        let started = Instant::now();
        let got = rx.receive(10, Duration::from_secs(5)).await.expect("receive");
        (got, started.elapsed(), rx)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    send_all(&sim, "requests", &[message("r1", b"x")]).await;
    let (got, waited, mut rx) = waiting.await.expect("join");
    assert_eq!(ids(&got), ["r1"]);
    assert!(waited < Duration::from_secs(2), "the poll saw the other connector's send ({waited:?})");
    rx.accept(&[got[0].tag]).await.expect("accept");
    assert_eq!(sim.depth("requests").await.expect("depth"), 0, "the other connector sees the accept");
    // Duplicate detection is in the file, so it spans connectors.
    send_all(&daemon, "requests", &[message("r1", b"x")]).await;
    assert_eq!(sim.depth("requests").await.expect("depth"), 0);
}

#[tokio::test]
async fn a_send_in_the_same_process_wakes_a_waiting_receiver() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = EmbeddedOptions { poll_interval: Duration::from_secs(10), ..EmbeddedOptions::default() };
    let queues = std::sync::Arc::new(EmbeddedQueues::open_file(&dir.path().join("q.sqlite"), options).expect("open"));
    let mut rx = queues.receiver("q").await.expect("receiver");
    let q2 = queues.clone();
    let sending = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        send_all(&q2, "q", &[message("a", b"1")]).await;
    });
    let started = Instant::now();
    let got = rx.receive(10, Duration::from_secs(5)).await.expect("receive");
    assert_eq!(ids(&got), ["a"]);
    assert!(started.elapsed() < Duration::from_secs(2), "woken, not polled");
    sending.await.expect("join");
}

#[tokio::test]
async fn bodies_are_kept_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = EmbeddedQueues::open(dir.path()).expect("open");
    let binary: Vec<u8> = (0..=255u8).chain([0xff, 0xfe, 0x00, 0xc3, 0x28]).collect();
    let utf8 = "Åsa Öberg, Łódź, Straße, é".as_bytes().to_vec();
    send_all(&queues, "q", &[message("bin", &binary), message("utf8", &utf8), message("empty", b"")]).await;
    let mut rx = queues.receiver("q").await.expect("receiver");
    let got = rx.receive(10, Duration::from_millis(50)).await.expect("receive");
    assert_eq!(got[0].body, binary);
    assert_eq!(got[1].body, utf8);
    assert!(got[2].body.is_empty());
}

#[tokio::test]
async fn an_empty_queue_returns_nothing_after_about_the_wait() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = EmbeddedQueues::open(dir.path()).expect("open");
    let mut rx = queues.receiver("q").await.expect("receiver");
    let started = Instant::now();
    let got = rx.receive(10, Duration::from_millis(200)).await.expect("receive");
    let waited = started.elapsed();
    assert!(got.is_empty());
    assert!(waited >= Duration::from_millis(190), "returned early ({waited:?})");
    assert!(waited < Duration::from_secs(2), "returned late ({waited:?})");
    assert!(rx.receive(0, Duration::from_secs(5)).await.expect("receive").is_empty());
}

#[tokio::test]
async fn too_large_messages_are_rejected_one_by_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = EmbeddedOptions { max_message_bytes: 10, ..EmbeddedOptions::default() };
    let queues = EmbeddedQueues::open_file(&dir.path().join("q.sqlite"), options).expect("open");
    let mut sender = queues.sender("q").await.expect("sender");
    let results = sender.send(&[message("small", b"ok"), message("big", &[0u8; 11])]).await;
    assert!(results[0].is_ok());
    assert_eq!(results[1].as_ref().expect_err("too large").kind, TransportErrorKind::Rejected);
    assert_eq!(queues.depth("q").await.expect("depth"), 1);
}

#[tokio::test]
async fn inspection_lists_counts_and_peeks_without_locking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = EmbeddedQueues::open(dir.path()).expect("open");
    send_all(&queues, "b", &[message("b1", b"1"), message("b2", b"2")]).await;
    send_all(&queues, "a", &[message("a1", b"1")]).await;
    let counts = queues.counts().await.expect("counts");
    let summary: Vec<_> = counts.iter().map(|c| (c.queue.as_str(), c.messages)).collect();
    assert_eq!(summary, [("a", 1), ("b", 2)]);
    let peeked = queues.peek("b", None, 10).await.expect("peek");
    assert_eq!(peeked.iter().map(|m| m.message_id.as_deref().unwrap_or("")).collect::<Vec<_>>(), ["b1", "b2"]);
    let after = queues.peek("b", Some(peeked[0].seq), 10).await.expect("peek");
    assert_eq!(after.len(), 1);
    assert!(queues.peek("never-used", None, 10).await.expect("peek").is_empty());
    // Peeking locked nothing.
    let mut rx = queues.receiver("b").await.expect("receiver");
    assert_eq!(rx.receive(10, Duration::from_millis(50)).await.expect("receive").len(), 2);

    queues.put_raw("raw", RawMessage { body: b"no id".to_vec(), ..RawMessage::default() }).await.expect("put");
    let mut rx = queues.receiver("raw").await.expect("receiver");
    let got = rx.receive(10, Duration::from_millis(50)).await.expect("receive");
    assert_eq!(got[0].message_id, None);
    assert_eq!(got[0].subject, None);
}

#[tokio::test]
async fn messages_survive_reopening_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let queues = EmbeddedQueues::open(dir.path()).expect("open");
        send_all(&queues, "q", &[message("a", b"1")]).await;
    }
    let queues = EmbeddedQueues::open(dir.path()).expect("reopen");
    let mut rx = queues.receiver("q").await.expect("receiver");
    assert_eq!(ids(&rx.receive(10, Duration::from_millis(50)).await.expect("receive")), ["a"]);
    assert!(queues.describe().contains("queues.sqlite"));
}

#[tokio::test]
async fn accepting_a_batch_of_which_another_consumer_took_one_message_settles_none_of_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = EmbeddedQueues::open(dir.path()).expect("open");
    send_all(&queues, "q", &[message("a", b"1"), message("b", b"2"), message("c", b"3")]).await;
    // Two consumers of one queue is against the rules, and so each gets all three messages.
    let mut first = queues.receiver("q").await.expect("receiver");
    let mut second = queues.receiver("q").await.expect("receiver");
    let mine = first.receive(10, Duration::from_millis(50)).await.expect("receive");
    let theirs = second.receive(10, Duration::from_millis(50)).await.expect("receive");
    assert_eq!(ids(&mine), ["a", "b", "c"]);
    second.accept(&[theirs[1].tag]).await.expect("accept b");
    let tags: Vec<DeliveryTag> = mine.iter().map(|d| d.tag).collect();
    let err = first.accept(&tags).await.expect_err("b is gone");
    assert_eq!(err.kind, TransportErrorKind::LockLost);
    assert_eq!(queues.depth("q").await.expect("depth"), 2, "a and c stay: the accept is all or nothing");
}
