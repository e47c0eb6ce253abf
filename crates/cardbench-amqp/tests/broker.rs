//! Against the real broker (RabbitMQ 3.10 + AMQP 1.0 on loopback): round trip, peek-lock,
//! pipelined sends, dead letters, check_connection.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use cardbench_amqp::{AmqpConnector, Auth, BrowseMethod, Secret, Step, check_connection};
use cardbench_transport::{Connector, DeliveryTag, OutboundMessage, QueueReceiver, TransportErrorKind};
use common::{msg, setup, unique};

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(700);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_keeps_every_property() {
    let (inq, outq) = (unique("rt-in"), unique("rt-out"));
    let Some(cfg) = setup(&inq, &outq) else { return };
    let c = AmqpConnector::new(cfg);
    let mut tx = c.sender(&outq).await.expect("sender");
    let body = "{\"type\":\"CARD_PRODUCED\",\"name\":\"Zoë\"}".as_bytes().to_vec();
    let sent = OutboundMessage {
        message_id: "6b1f3c8e-1f7e-4b7e-9a55-0d1d2a6f9b10".into(),
        subject: "CARD_PRODUCED".into(),
        correlation_id: Some("req-42".into()),
        content_type: "application/json".into(),
        body: body.clone(),
    };
    let results = tx.send(std::slice::from_ref(&sent)).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");

    let mut rx = c.receiver(&outq).await.expect("receiver");
    let got = rx.receive(10, WAIT).await.expect("receive");
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(d.message_id.as_deref(), Some(sent.message_id.as_str()));
    assert_eq!(d.subject.as_deref(), Some("CARD_PRODUCED"));
    assert_eq!(d.correlation_id.as_deref(), Some("req-42"));
    assert_eq!(d.content_type.as_deref(), Some("application/json"));
    assert_eq!(d.body, body);
    assert_eq!(d.delivery_count, 0);
    rx.accept(&[d.tag]).await.expect("accept");
    assert!(rx.receive(10, QUIET).await.expect("receive").is_empty(), "accepted = gone");
    // A tag this receiver does not hold (already settled) is a lost lock, not a silent no-op.
    let e = rx.accept(&[d.tag]).await.expect_err("settling twice");
    assert_eq!(e.kind, TransportErrorKind::LockLost);
    assert!(c.describe().contains("127.0.0.1") && !c.describe().contains("guest:guest"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_message_comes_back_counted() {
    let q = unique("pl");
    let Some(cfg) = setup(&q, &unique("unused")) else { return };
    let c = AmqpConnector::new(cfg);
    let mut tx = c.sender(&q).await.expect("sender");
    assert!(tx.send(&[msg("m-1", "S", b"1"), msg("m-2", "S", b"2")]).await.iter().all(|r| r.is_ok()));

    let mut rx = c.receiver(&q).await.expect("receiver");
    let mut first = rx.receive(10, WAIT).await.expect("receive");
    if first.len() < 2 {
        first.extend(rx.receive(10, WAIT).await.expect("receive"));
    }
    assert_eq!(first.iter().map(|d| d.message_id.clone().unwrap_or_default()).collect::<Vec<_>>(), ["m-1", "m-2"]);
    assert!(first.iter().all(|d| d.delivery_count == 0));
    // Abandon m-1, complete m-2.
    rx.release(&[first[0].tag]).await.expect("release");
    rx.accept(&[first[1].tag]).await.expect("accept");

    let again = rx.receive(10, WAIT).await.expect("receive again");
    assert_eq!(again.len(), 1, "only the released message comes back: {again:?}");
    assert_eq!(again[0].message_id.as_deref(), Some("m-1"));
    assert_eq!(again[0].body, b"1");
    // RabbitMQ leaves delivery-count at 0 but clears first-acquirer; either way it shows.
    assert!(again[0].delivery_count >= 1, "redelivery must be visible: {:?}", again[0]);
    assert_ne!(again[0].tag, first[0].tag, "a redelivery gets a new tag");
    rx.accept(&[again[0].tag]).await.expect("accept");
    assert!(rx.receive(10, QUIET).await.expect("receive").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsettled_on_a_dropped_connection_comes_back() {
    let q = unique("drop");
    let Some(cfg) = setup(&q, &unique("unused")) else { return };
    let c = AmqpConnector::new(cfg);
    let mut tx = c.sender(&q).await.expect("sender");
    assert!(tx.send(&[msg("locked", "S", b"x")]).await[0].is_ok());
    {
        let mut rx = c.receiver(&q).await.expect("receiver");
        let got = rx.receive(1, WAIT).await.expect("receive");
        assert_eq!(got.len(), 1);
        // Dropped without settling: like a crash between our commit and our accept.
    }
    let mut rx2 = c.receiver(&q).await.expect("receiver 2");
    let got = rx2.receive(1, Duration::from_secs(10)).await.expect("receive");
    assert_eq!(got.len(), 1, "the locked message must come back once the connection is gone");
    assert_eq!(got[0].message_id.as_deref(), Some("locked"));
    assert!(got[0].delivery_count >= 1);
    rx2.accept(&[got[0].tag]).await.expect("accept");
}

/// Waits until `rx` has buffered `want` messages (or `limit` passes), then for `QUIET` more so
/// that anything beyond `want` would show too; returns what is buffered.
async fn buffered_settles_at(rx: &cardbench_amqp::AmqpReceiver, want: usize, limit: Duration) -> usize {
    let start = std::time::Instant::now();
    while rx.buffered() < want && start.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(QUIET).await;
    rx.buffered()
}

/// A fresh queue holding `n` messages with ids `{prefix}-{i:04}`, and a connector whose receivers
/// grant `credit` at a time and hold at most `max_locked`; None when no broker is configured.
async fn loaded_queue(prefix: &str, credit: u32, max_locked: u32, n: usize) -> Option<(AmqpConnector, String, Vec<OutboundMessage>)> {
    let q = unique(prefix);
    let mut cfg = setup(&q, &unique("unused"))?;
    cfg.credit = credit;
    cfg.max_locked = max_locked;
    let c = AmqpConnector::new(cfg);
    let mut tx = c.sender(&q).await.expect("sender");
    let msgs: Vec<_> = (0..n).map(|i| msg(&format!("{prefix}-{i:04}"), "S", b"{}")).collect();
    for chunk in msgs.chunks(500) {
        assert!(tx.send(chunk).await.iter().all(|r| r.is_ok()), "loading {q}");
    }
    Some((c, q, msgs))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_locked_bounds_what_is_locked_at_once() {
    // Grants of 2 while they fit under 5: two grants (4 locked), never a third (6).
    let Some((c, q, _)) = loaded_queue("locked", 2, 5, 10).await else { return };
    let mut rx = c.open_receiver(&q).await.expect("receiver");
    assert_eq!(buffered_settles_at(&rx, 4, WAIT).await, 4, "credit 2, max_locked 5 → 4 locked");
    let got = rx.receive(100, WAIT).await.expect("receive");
    assert_eq!(got.len(), 4);
    // Taken but not settled: still locked, so nothing more comes.
    assert_eq!(buffered_settles_at(&rx, 1, QUIET).await, 0, "taken, unsettled messages still count");
    // Settling two makes room for exactly one more grant.
    rx.accept(&[got[0].tag, got[1].tag]).await.expect("accept");
    assert_eq!(buffered_settles_at(&rx, 2, WAIT).await, 2, "room for one grant of 2 after settling 2");
    let more = rx.receive(100, WAIT).await.expect("receive");
    let mut tags: Vec<DeliveryTag> = got[2..].iter().chain(&more).map(|d| d.tag).collect();
    rx.accept(&tags).await.expect("accept");
    // The rest drains as settles make room.
    let mut seen = 6;
    while seen < 10 {
        let batch = rx.receive(100, WAIT).await.expect("receive");
        assert!(!batch.is_empty(), "stalled after {seen}");
        seen += batch.len();
        tags = batch.iter().map(|d| d.tag).collect();
        rx.accept(&tags).await.expect("accept");
    }
    rx.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiving_goes_on_while_the_caller_is_busy() {
    // The daemon commits a batch while the next arrives: the receiver must keep granting credit
    // without being called, or each commit gets one grant's worth and the broker idles meanwhile.
    let Some((c, q, msgs)) = loaded_queue("ahead", 4, 64, 40).await else { return };
    let mut rx = c.open_receiver(&q).await.expect("receiver");
    // Not one receive call yet: ten grants of 4 were made on their own.
    assert_eq!(buffered_settles_at(&rx, 40, Duration::from_secs(10)).await, 40);
    let got = rx.receive(100, Duration::ZERO).await.expect("receive");
    let ids: Vec<_> = got.iter().map(|d| d.message_id.clone().unwrap_or_default()).collect();
    assert_eq!(ids, msgs.iter().map(|m| m.message_id.clone()).collect::<Vec<_>>(), "all 40 at once, in order");
    rx.accept(&got.iter().map(|d| d.tag).collect::<Vec<_>>()).await.expect("accept");
    assert!(rx.receive(10, QUIET).await.expect("receive").is_empty(), "accepted = gone");
    rx.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_pipelined_sends_all_accepted_and_in_order() {
    let q = unique("bulk");
    let Some(mut cfg) = setup(&q, &unique("unused")) else { return };
    cfg.credit = 200;
    let c = AmqpConnector::new(cfg);
    let mut tx = c.sender(&q).await.expect("sender");
    let msgs: Vec<_> = (0..1000).map(|i| msg(&format!("b-{i:04}"), "S", format!("{{\"n\":{i}}}").as_bytes())).collect();
    let results = tx.send(&msgs).await;
    assert_eq!(results.len(), 1000);
    assert!(results.iter().all(|r| r.is_ok()), "{:?}", results.iter().find(|r| r.is_err()));

    let mut rx = c.receiver(&q).await.expect("receiver");
    let mut ids = Vec::new();
    while ids.len() < 1000 {
        let got = rx.receive(200, WAIT).await.expect("receive");
        assert!(!got.is_empty(), "stalled after {} messages", ids.len());
        let tags: Vec<_> = got.iter().map(|d| d.tag).collect();
        ids.extend(got.into_iter().map(|d| d.message_id.unwrap_or_default()));
        rx.accept(&tags).await.expect("accept");
    }
    let want: Vec<_> = msgs.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids, want, "all 1000, once each, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_message_id_is_delivered_twice_by_rabbitmq() {
    // Duplicate detection is Service Bus's job (per queue, keyed on message-id). RabbitMQ has
    // none: this pins down that the connector itself neither drops nor merges duplicates, so
    // the workflow's own dedupe must hold (and is tested there).
    let q = unique("dup");
    let Some(cfg) = setup(&q, &unique("unused")) else { return };
    let c = AmqpConnector::new(cfg);
    let mut tx = c.sender(&q).await.expect("sender");
    assert!(tx.send(&[msg("same", "S", b"1"), msg("same", "S", b"1")]).await.iter().all(|r| r.is_ok()));
    let mut rx = c.receiver(&q).await.expect("receiver");
    let mut got = rx.receive(10, WAIT).await.expect("receive");
    if got.len() < 2 {
        got.extend(rx.receive(10, WAIT).await.expect("receive"));
    }
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|d| d.message_id.as_deref() == Some("same")), "both copies, each with the same messageId: {got:?}");
    rx.accept(&got.iter().map(|d| d.tag).collect::<Vec<_>>()).await.expect("accept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_shown_taken_and_settled_without_sending() {
    let q = unique("dl");
    let Some(cfg) = setup(&q, &unique("unused")) else { return };
    let c = AmqpConnector::new(cfg.clone());
    let mut tx = c.sender(&q).await.expect("sender");
    let mut poison = msg("poison-1", "CARD_REQUEST", b"{\"bad\":true}");
    poison.correlation_id = Some("corr-7".into());
    assert!(tx.send(&[poison.clone(), msg("poison-2", "CARD_REQUEST", b"{}")]).await.iter().all(|r| r.is_ok()));

    // Dead-letter both the way the broker does it: a `rejected` disposition (on Service Bus: at
    // the max delivery count or by an explicit dead-letter). Cardbench itself never does this.
    reject_all(&cfg, &cfg.address(&q), 2).await;

    let mut dl = c.dead_letters(&q);
    let listed = dl.list(10, WAIT).await.expect("list");
    // RabbitMQ 3.10 has no `$management` peek: the browser says it took and released them.
    assert_eq!(listed.method, BrowseMethod::LockAndRelease);
    let ids: HashSet<_> = listed.letters.iter().filter_map(|d| d.delivery.message_id.clone()).collect();
    assert_eq!(ids, HashSet::from(["poison-1".to_owned(), "poison-2".to_owned()]));
    // Listing released them: still there.
    let shown = dl.show("poison-1", 10, WAIT).await.expect("show").expect("poison-1 still there");
    assert_eq!(shown.delivery.body, poison.body);
    assert_eq!(shown.delivery.correlation_id.as_deref(), Some("corr-7"));
    // Service Bus adds DeadLetterReason / DeadLetterErrorDescription as application properties
    // (shown in `fields`); RabbitMQ 3.10's AMQP 1.0 plugin passes no x-death info.
    assert_eq!(shown.reason(), None);

    // Taken and released: still there. Taken and completed: gone.
    let taken = dl.take("poison-1", 10, WAIT).await.expect("take").expect("poison-1 taken");
    assert_eq!(taken.delivery.body, poison.body);
    dl.release(&taken).await.expect("release");
    let taken = dl.take("poison-1", 10, WAIT).await.expect("take").expect("poison-1 taken again");
    dl.complete(&taken).await.expect("complete");
    assert!(dl.take("no-such-id", 10, QUIET).await.expect("take of a missing id").is_none());
    let left = dl.list(10, WAIT).await.expect("list");
    assert_eq!(left.letters.iter().filter_map(|d| d.delivery.message_id.as_deref()).collect::<Vec<_>>(), ["poison-2"]);
    dl.close().await;

    // Nothing was sent back into the queue (NGOC's inbound rights are read-only).
    let mut rx = c.receiver(&q).await.expect("receiver");
    assert!(rx.receive(10, QUIET).await.expect("receive").is_empty(), "the inbound queue stays empty");
}

/// Rejects `n` messages on `address` with a plain fe2o3 receiver (test scaffolding).
async fn reject_all(cfg: &cardbench_amqp::ServiceBusConfig, address: &str, n: usize) {
    use fe2o3_amqp::types::messaging::Body;
    use fe2o3_amqp::types::primitives::Value;
    let Auth::SaslPlain { user, password } = &cfg.auth else { panic!("test broker uses PLAIN") };
    let url = format!("amqp://{}:{}@{}:{}", user, password.expose(), cfg.host, cfg.port);
    let mut conn = fe2o3_amqp::Connection::open("reject-helper", url.as_str()).await.expect("connect");
    let mut session = fe2o3_amqp::Session::begin(&mut conn).await.expect("session");
    let mut rx = fe2o3_amqp::Receiver::attach(&mut session, "reject-helper", address).await.expect("attach");
    for _ in 0..n {
        let d = tokio::time::timeout(WAIT, rx.recv::<Body<Value>>()).await.expect("message to reject").expect("recv");
        rx.reject(&d, None).await.expect("reject");
    }
    let _ = rx.detach().await;
    let _ = session.end().await;
    let _ = conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_connection_names_the_failing_step() {
    let (inq, outq) = (unique("chk-in"), unique("chk-out"));
    let Some(good) = setup(&inq, &outq) else { return };

    let report = check_connection(&good).await;
    assert!(report.ok(), "{report:#?}");
    assert!(report.steps.iter().all(|s| s.ok) && report.steps.len() >= 3, "{report:#?}");

    // Nothing listening: a port we just had and let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let mut cfg = good.clone();
    cfg.port = port;
    let r = check_connection(&cfg).await;
    assert_eq!(r.failed.as_ref().map(|f| f.0), Some(Step::Tcp), "{r:#?}");
    assert!(r.failed.as_ref().is_some_and(|f| f.1.contains("refused")), "{r:#?}");

    // Wrong password.
    let mut cfg = good.clone();
    cfg.auth = Auth::SaslPlain { user: "guest".into(), password: Secret::new("not-the-password") };
    let r = check_connection(&cfg).await;
    assert_eq!(r.failed.as_ref().map(|f| f.0), Some(Step::Auth), "{r:#?}");
    assert!(!format!("{r:?}").contains("not-the-password"), "the report must not carry the password");

    // Missing inbound queue.
    let mut cfg = good.clone();
    cfg.inbound_queue = unique("missing");
    let r = check_connection(&cfg).await;
    assert_eq!(r.failed.as_ref().map(|f| f.0), Some(Step::QueueNotFound), "{r:#?}");

    // TLS to a port that speaks plain AMQP.
    let mut cfg = good.clone();
    cfg.tls = true;
    let r = check_connection(&cfg).await;
    assert_eq!(r.failed.as_ref().map(|f| f.0), Some(Step::Tls), "{r:#?}");

    // A name that cannot resolve (.invalid is reserved for that).
    let mut cfg = good.clone();
    cfg.host = "no-such-namespace.invalid".into();
    cfg.tls = true;
    let r = check_connection(&cfg).await;
    assert_eq!(r.failed.as_ref().map(|f| f.0), Some(Step::Dns), "{r:#?}");

    // The same failures through the Connector give the matching error kinds.
    let mut cfg = good.clone();
    cfg.inbound_queue = unique("missing");
    let e = AmqpConnector::new(cfg.clone()).receiver(&cfg.inbound_queue).await.err().expect("missing queue");
    assert_eq!(e.kind, TransportErrorKind::NotFound, "{e}");
    let mut cfg = good.clone();
    cfg.auth = Auth::SaslPlain { user: "guest".into(), password: Secret::new("wrong") };
    let e = AmqpConnector::new(cfg).sender(&outq).await.err().expect("wrong password");
    assert_eq!(e.kind, TransportErrorKind::Auth, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_connection_reports_missing_permission() {
    let (inq, outq) = (unique("perm-in"), unique("perm-out"));
    let Some(good) = setup(&inq, &outq) else { return };
    // A user that may log in but neither read nor write any queue (like a SAS rule without the
    // Listen / Send claim).
    let env = common::broker_dir().join("env");
    let script = format!(
        ". '{}' && ctl=/usr/lib/rabbitmq/bin/rabbitmqctl && ($ctl -q add_user cb-noperm cb-noperm >/dev/null 2>&1 || true) && $ctl -q set_permissions -p / cb-noperm '^$' '^$' '^$'",
        env.display()
    );
    let out = std::process::Command::new("bash").arg("-c").arg(&script).output().expect("rabbitmqctl");
    assert!(out.status.success(), "creating the user failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut cfg = good.clone();
    cfg.auth = Auth::SaslPlain { user: "cb-noperm".into(), password: Secret::new("cb-noperm") };
    let r = check_connection(&cfg).await;
    assert_eq!(r.failed.as_ref().map(|f| f.0), Some(Step::NoPermission), "{r:#?}");
    let e = AmqpConnector::new(cfg.clone()).receiver(&inq).await.err().expect("no read permission");
    assert_eq!(e.kind, TransportErrorKind::Forbidden, "{e}");
}

/// Closes `rx` and fails if that took the close timeout rather than a handshake.
async fn close_promptly(rx: cardbench_amqp::AmqpReceiver, what: &str) {
    let start = std::time::Instant::now();
    rx.close().await;
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "closing {what} took {took:?}: the close handshake did not complete");
}

#[tokio::test(flavor = "current_thread")]
async fn closing_a_receiver_on_one_thread_ends_by_handshake_not_timeout() {
    // The daemon closes its receiver at shutdown and on every reconnect. fe2o3's session engine
    // busy-polls from our End until the peer's, and on one thread that wait often ran into the
    // whole close timeout (10 s of a core at 100 %; 2 closes in 6 of an idle receiver here).
    // The connection's Close now ends the session; each close must be a handshake.
    let Some((c, q, msgs)) = loaded_queue("close", 128, 1024, 3000).await else { return };
    // Busy: transfers buffered and in flight beyond what was taken.
    let mut rx = c.open_receiver(&q).await.expect("receiver");
    let mut accepted = 0;
    while accepted < 2000 {
        let got = rx.receive(2000 - accepted, WAIT).await.expect("receive");
        assert!(!got.is_empty(), "stalled after {accepted}");
        accepted += got.len();
        rx.accept(&got.iter().map(|d| d.tag).collect::<Vec<_>>()).await.expect("accept");
    }
    close_promptly(rx, "a receiver with messages in flight").await;
    // Nothing accepted comes back; everything held does.
    let mut rx = c.open_receiver(&q).await.expect("receiver again");
    let mut left = HashSet::new();
    loop {
        let got = rx.receive(1000, QUIET).await.expect("receive");
        if got.is_empty() {
            break;
        }
        left.extend(got.iter().filter_map(|d| d.message_id.clone()));
        rx.accept(&got.iter().map(|d| d.tag).collect::<Vec<_>>()).await.expect("accept");
    }
    close_promptly(rx, "a drained receiver").await;
    let never_accepted: HashSet<String> = msgs[2000..].iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(left, never_accepted, "the 1,000 never accepted are back, and only they");
    // Idle, with credit granted and unused: the case that timed out most often.
    for round in 0..6 {
        let mut rx = c.open_receiver(&q).await.expect("idle receiver");
        assert!(rx.receive(1, Duration::from_millis(200)).await.expect("receive").is_empty());
        close_promptly(rx, &format!("idle receiver {round}")).await;
    }
}

/// A message whose body is 256 KB of nested lists (about 29,000 levels; spread over several
/// transfers) made serde_amqp recurse once per level inside fe2o3's receive, before our code,
/// and overflow the tokio worker's stack. With the patched crate (crates/third-party/serde_amqp)
/// the decode stops at 64 levels: the receiver passes the message on empty with a `decode-error`
/// field (the workflow records it as rejected), and the next message arrives as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_message_is_passed_on_as_a_decode_error_and_the_next_one_arrives() {
    use fe2o3_amqp::types::messaging::Message;
    use serde_amqp::lazy::LazyValue;
    use serde_amqp::read::SliceReader;

    let q = unique("nested");
    let Some(cfg) = setup(&q, &unique("unused")) else { return };
    let Auth::SaslPlain { user, password } = &cfg.auth else { panic!("test broker uses PLAIN") };
    let url = format!("amqp://{}:{}@{}:{}", user, password.expose(), cfg.host, cfg.port);
    // The body's bytes as they go on the wire: a LazyValue is sent verbatim (encoding a nested
    // `Value` recurses per level and is quadratic: minutes for this one).
    let encoded = common::nested_lists(256 * 1024 / 9);
    let body = LazyValue::from_reader(&mut SliceReader::new(&encoded)).expect("one encoded value");
    assert_eq!(body.as_slice().len(), encoded.len());
    let mut conn = fe2o3_amqp::Connection::open("nested-sender", url.as_str()).await.expect("connect");
    let mut session = fe2o3_amqp::Session::begin(&mut conn).await.expect("session");
    let mut raw = fe2o3_amqp::Sender::attach(&mut session, "nested-sender", cfg.address(&q)).await.expect("attach");
    let outcome = tokio::time::timeout(WAIT, raw.send(Message::builder().value(body).build())).await.expect("sent in time");
    assert!(outcome.is_ok_and(|o| o.is_accepted()), "the broker takes the nested message");
    let _ = raw.close().await;
    let _ = session.end().await;
    let _ = conn.close().await;

    let c = AmqpConnector::new(cfg);
    let mut tx = c.sender(&q).await.expect("sender");
    assert!(tx.send(&[msg("after-nested", "S", b"{\"ok\":true}")]).await.iter().all(|r| r.is_ok()));

    let mut rx = c.open_receiver(&q).await.expect("receiver");
    let mut got = rx.receive_raw(10, WAIT).await.expect("receive");
    if got.len() < 2 {
        got.extend(rx.receive_raw(10, WAIT).await.expect("receive"));
    }
    assert_eq!(got.len(), 2, "{got:?}");
    let (refused, fields) = &got[0];
    assert!(refused.body.is_empty() && refused.message_id.is_none(), "{refused:?}");
    let error = fields.iter().find(|(k, _)| k == "decode-error").map(|(_, v)| v.as_str()).unwrap_or_default();
    assert!(error.contains("nested deeper than 64 levels"), "{fields:?}");
    let (next, _) = &got[1];
    assert_eq!(next.message_id.as_deref(), Some("after-nested"));
    assert_eq!(next.body, b"{\"ok\":true}");
    rx.accept(&[refused.tag, next.tag]).await.expect("accept");
    assert!(rx.receive(10, QUIET).await.expect("receive").is_empty());
    rx.close().await;
}
