//! The simulator against the embedded queues in temporary directories, playing Cardbench by hand.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cardbench_protocol::{
    Accessory, CardProduced, ErrorCode, ErrorMessage, ExternalProductionData, Inbound, ReportOk, Shipped, ShippedOk, Subject,
    decode_inbound,
};
use cardbench_sim::{CorrelationForm, FaultRates, SimConfig, Simulator, WireForms};
use cardbench_transport::embedded::{EmbeddedOptions, EmbeddedQueues};
use cardbench_transport::{Connector, Delivery, OutboundMessage, QueueReceiver, QueueSender};
use indexmap::IndexMap;

const REQUESTS: &str = "ngoc-requests";
const NOTIFICATIONS: &str = "ngoc-notifications";

/// Cardbench's end of the queues.
struct Bench {
    rx: Box<dyn QueueReceiver>,
    tx: Box<dyn QueueSender>,
}

impl Bench {
    async fn new(queues: &EmbeddedQueues) -> Bench {
        Bench { rx: queues.receiver(REQUESTS).await.expect("receiver"), tx: queues.sender(NOTIFICATIONS).await.expect("sender") }
    }

    /// Everything on the requests queue now, accepted.
    async fn take(&mut self) -> Vec<Delivery> {
        let mut all = Vec::new();
        loop {
            let got = self.rx.receive(500, Duration::from_millis(100)).await.expect("receive");
            if got.is_empty() {
                return all;
            }
            let tags: Vec<_> = got.iter().map(|d| d.tag).collect();
            self.rx.accept(&tags).await.expect("accept");
            all.extend(got);
        }
    }

    async fn send(&mut self, subject: Subject, body: &impl serde::Serialize) -> String {
        self.send_as(&uuid::Uuid::new_v4().to_string(), subject, body).await
    }

    /// Sends with the messageId given: a resend of an earlier message.
    async fn send_as(&mut self, id: &str, subject: Subject, body: &impl serde::Serialize) -> String {
        let id = id.to_owned();
        let message = OutboundMessage {
            message_id: id.clone(),
            subject: subject.as_str().into(),
            correlation_id: None,
            content_type: "application/json".into(),
            body: serde_json::to_vec(body).expect("json"),
        };
        self.tx.send(&[message]).await.into_iter().for_each(|r| r.expect("sent"));
        id
    }
}

fn config(seed: u64) -> SimConfig {
    SimConfig { seed: Some(seed), max_cards_per_shipment: 4, ..SimConfig::default() }
}

fn open(dir: &Path, config: SimConfig) -> (Arc<EmbeddedQueues>, Simulator) {
    let queues = Arc::new(EmbeddedQueues::open(dir).expect("queues"));
    let sim = Simulator::open(dir, config, queues.clone()).expect("sim");
    (queues, sim)
}

fn request_of(d: &Delivery) -> ExternalProductionData {
    match decode_inbound(Subject::RequestSent, &d.body) {
        Ok(Inbound::Request(r)) => r,
        other => panic!("not a valid request: {other:?}"),
    }
}

fn produced(r: &ExternalProductionData, uid: &str) -> CardProduced {
    let mut report_data = IndexMap::new();
    for field in &r.card.expected_report_data_fields {
        // `uid` is hex, most significant byte first; the LSB translation is its bytes reversed.
        let lsb = || uid.as_bytes().chunks(2).rev().map(|pair| String::from_utf8_lossy(pair).into_owned()).collect::<String>();
        let value = match field.as_str() {
            "MIFARE_UID" | "TRANSLATION_MIFARE_HEX_MSB" => uid.to_owned(),
            "TRANSLATION_MIFARE_HEX_LSB" => lsb(),
            _ => format!("S-{}", r.card.card_id),
        };
        report_data.insert(field.clone(), value);
    }
    CardProduced {
        organisation_id: r.organisation_id.clone(),
        shipment_id: r.shipment_id.clone(),
        card_id: r.card.card_id.clone(),
        produced: chrono::Utc::now(),
        report_data,
        external_report_data: IndexMap::new(),
    }
}

fn shipped(r: &ExternalProductionData, cards: &[&str], accessories: Vec<Accessory>) -> Shipped {
    Shipped {
        organisation_id: r.organisation_id.clone(),
        shipment_id: r.shipment_id.clone(),
        shipped: chrono::Utc::now(),
        cards: cards.iter().map(|c| (*c).to_owned()).collect(),
        accessories,
        carrier: Some("PostNord".into()),
        tracking_id: None,
    }
}

/// The one answer the simulator sends to what Bench just sent.
async fn answer(sim: &Simulator, bench: &mut Bench) -> Delivery {
    sim.answer_pending(Duration::from_millis(500)).await.expect("answer");
    let mut got = bench.take().await;
    assert_eq!(got.len(), 1, "exactly one answer");
    got.remove(0)
}

fn error_of(d: &Delivery) -> ErrorMessage {
    assert_eq!(d.subject.as_deref(), Some(Subject::Error.as_str()));
    match decode_inbound(Subject::Error, &d.body) {
        Ok(Inbound::Error(e)) => e,
        other => panic!("not an ERROR: {other:?}"),
    }
}

#[tokio::test]
async fn generated_requests_are_valid_and_come_in_shipments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (queues, sim) = open(dir.path(), config(7));
    let report = sim.generate(20).await.expect("generate");
    assert_eq!(report.requests, 20);
    assert_eq!(report.card_ids.len(), 20);
    let mut bench = Bench::new(&queues).await;
    let got = bench.take().await;
    assert_eq!(got.len(), 20);
    let mut shipments = std::collections::BTreeMap::<String, usize>::new();
    let mut card_ids = std::collections::HashSet::new();
    for d in &got {
        assert_eq!(d.subject.as_deref(), Some(Subject::RequestSent.as_str()));
        assert_eq!(d.content_type.as_deref(), Some("application/json"));
        assert!(uuid::Uuid::parse_str(d.message_id.as_deref().unwrap_or("")).is_ok(), "messageId is a UUID");
        let r = request_of(d);
        assert!(card_ids.insert(r.card.card_id.clone()), "card ids are unique");
        *shipments.entry(r.shipment_id.clone()).or_default() += 1;
    }
    assert!(shipments.len() < 20 && shipments.values().all(|n| (1..=4).contains(n)), "{shipments:?}");
    // Realistic content somewhere in 20 requests.
    let bodies: Vec<String> = got.iter().map(|d| String::from_utf8(d.body.clone()).expect("utf8")).collect();
    assert!(bodies.iter().any(|b| !b.is_ascii()), "non-ASCII names");
    assert!(bodies.iter().any(|b| b.contains("MIFARE_UID")));
    assert_eq!(sim.cards().await.expect("cards").len(), 20);
    assert_eq!(sim.sent().await.expect("sent").iter().filter(|s| s.sent).count(), 20);

    // The same seed gives the same content (not the same ids).
    let dir2 = tempfile::tempdir().expect("tempdir");
    let (queues2, sim2) = open(dir2.path(), config(7));
    sim2.generate(20).await.expect("generate");
    let again = Bench::new(&queues2).await.take().await;
    let names = |ds: &[Delivery]| ds.iter().map(|d| request_of(d).card.card_elements).collect::<Vec<_>>();
    assert_eq!(names(&got), names(&again));
}

#[tokio::test]
async fn a_correct_card_produced_gets_report_ok_with_correlation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (queues, sim) = open(dir.path(), config(1));
    sim.generate(5).await.expect("generate");
    let mut bench = Bench::new(&queues).await;
    let requests: Vec<_> = bench.take().await.iter().map(request_of).collect();
    let r = &requests[0];
    let id = bench.send(Subject::CardProduced, &produced(r, "04A22B1C5D6E7F")).await;
    let ok = answer(&sim, &mut bench).await;
    assert_eq!(ok.subject.as_deref(), Some(Subject::ReportOk.as_str()));
    assert_eq!(ok.correlation_id.as_deref(), Some(id.as_str()), "carrier correlation id");
    let body: ReportOk = serde_json::from_slice(&ok.body).expect("REPORT_OK");
    assert_eq!(body, ReportOk { card_id: r.card.card_id.clone(), correlation_id: Some(id) });
    assert!(decode_inbound(Subject::ReportOk, &ok.body).is_ok());
    assert_eq!(sim.reported_cards().await.expect("reported"), std::slice::from_ref(&r.card.card_id));
}

/// NGOC's own forms, which the contract tolerates: offset-less times with nine fraction digits,
/// and answers correlated by the body alone, the property alone, both, or neither, in turn.
#[tokio::test]
async fn ngoc_wire_forms_write_offsetless_times_and_rotate_the_correlation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wire = WireForms { offsetless_times: true, translation_fields: true, correlation: CorrelationForm::Rotate };
    let (queues, sim) = open(dir.path(), SimConfig { wire, ..config(3) });
    sim.generate(5).await.expect("generate");
    let mut bench = Bench::new(&queues).await;
    let deliveries = bench.take().await;
    for d in &deliveries {
        let raw: serde_json::Value = serde_json::from_slice(&d.body).expect("json");
        let ordered = raw["ordered"].as_str().expect("ordered is text");
        // 2026-12-07T08:30:00.000000000: no Z, no offset, nine digits after the point.
        let (_, fraction) = ordered.split_once('.').expect("a fraction");
        assert!(fraction.len() == 9 && fraction.bytes().all(|b| b.is_ascii_digit()), "nine digits, no offset: {ordered}");
        let fields = request_of(d).card.expected_report_data_fields;
        assert!(fields.is_empty() || fields[..2] == ["TRANSLATION_MIFARE_HEX_MSB", "TRANSLATION_MIFARE_HEX_LSB"], "{fields:?}");
    }
    let requests: Vec<_> = deliveries.iter().map(request_of).collect();
    let mut forms = Vec::new();
    for (i, r) in requests.iter().take(4).enumerate() {
        let id = bench.send(Subject::CardProduced, &produced(r, &format!("04A22B1C5D6E{i:02X}"))).await;
        let ok = answer(&sim, &mut bench).await;
        assert_eq!(ok.subject.as_deref(), Some(Subject::ReportOk.as_str()));
        let body: ReportOk = serde_json::from_slice(&ok.body).expect("REPORT_OK");
        assert_eq!(body.card_id, r.card.card_id);
        for named in [body.correlation_id.as_deref(), ok.correlation_id.as_deref()].into_iter().flatten() {
            assert_eq!(named, id, "a correlation, where there is one, names the CARD_PRODUCED answered");
        }
        forms.push((body.correlation_id.is_some(), ok.correlation_id.is_some()));
    }
    assert_eq!(forms, [(true, false), (false, true), (true, true), (false, false)], "body, property, both, neither");
}

#[tokio::test]
async fn bad_card_produced_messages_get_the_right_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (queues, sim) = open(dir.path(), config(2));
    sim.generate(6).await.expect("generate");
    let mut bench = Bench::new(&queues).await;
    let requests: Vec<_> = bench.take().await.iter().map(request_of).collect();
    let with_uid: Vec<_> = requests.iter().filter(|r| r.card.expected_report_data_fields.contains(&"MIFARE_UID".to_owned())).collect();
    assert!(with_uid.len() >= 3, "seed gives enough MIFARE cards");

    // Missing expected field.
    let mut cp = produced(with_uid[0], "04A22B1C");
    cp.report_data.clear();
    let id = bench.send(Subject::CardProduced, &cp).await;
    let d = answer(&sim, &mut bench).await;
    let e = error_of(&d);
    assert_eq!(e.error_code, ErrorCode::ReportDataMismatch);
    assert_eq!(e.correlation_id.as_deref(), Some(id.as_str()));
    assert_eq!(d.correlation_id.as_deref(), Some(id.as_str()));
    assert_eq!(e.card_id.as_deref(), Some(with_uid[0].card.card_id.as_str()));
    assert!(e.problems.iter().any(|p| p.path == "reportData.MIFARE_UID"), "{:?}", e.problems);

    // Wrong format.
    bench.send(Subject::CardProduced, &produced(with_uid[0], "04A22B")).await;
    assert_eq!(error_of(&answer(&sim, &mut bench).await).error_code, ErrorCode::InvalidReportData);

    // Unknown card.
    let mut unknown = produced(with_uid[0], "04A22B1C");
    unknown.card_id = "NOPE-1".into();
    bench.send(Subject::CardProduced, &unknown).await;
    assert_eq!(error_of(&answer(&sim, &mut bench).await).error_code, ErrorCode::UnknownCard);

    // A UID already reported for another card.
    bench.send(Subject::CardProduced, &produced(with_uid[1], "04AABBCC")).await;
    assert_eq!(answer(&sim, &mut bench).await.subject.as_deref(), Some(Subject::ReportOk.as_str()));
    bench.send(Subject::CardProduced, &produced(with_uid[2], "04AABBCC")).await;
    assert_eq!(error_of(&answer(&sim, &mut bench).await).error_code, ErrorCode::InvalidReportData);

    // Schema violation, unknown subject, no messageId.
    bench.send(Subject::CardProduced, &serde_json::json!({"cardId": "x"})).await;
    assert_eq!(error_of(&answer(&sim, &mut bench).await).error_code, ErrorCode::InvalidMessage);
    queues
        .put_raw(NOTIFICATIONS, cardbench_transport::embedded::RawMessage {
            message_id: Some("m-odd".into()),
            subject: Some("HELLO".into()),
            body: b"{}".to_vec(),
            ..Default::default()
        })
        .await
        .expect("put");
    assert_eq!(error_of(&answer(&sim, &mut bench).await).error_code, ErrorCode::UnknownSubject);
    queues
        .put_raw(NOTIFICATIONS, cardbench_transport::embedded::RawMessage {
            subject: Some(Subject::CardProduced.as_str().into()),
            body: serde_json::to_vec(&produced(with_uid[0], "04A22B1C")).expect("json"),
            ..Default::default()
        })
        .await
        .expect("put");
    let e = error_of(&answer(&sim, &mut bench).await);
    assert_eq!(e.error_code, ErrorCode::MissingMessageId);
    assert_eq!(e.correlation_id, None);

    // An ERROR from Cardbench is recorded and never answered.
    let err = ErrorMessage {
        correlation_id: Some("whatever".into()),
        error_code: ErrorCode::InvalidMessage,
        details: "bad".into(),
        card_id: None,
        shipment_id: None,
        problems: vec![],
    };
    bench.send(Subject::Error, &err).await;
    let report = sim.answer_pending(Duration::from_millis(500)).await.expect("answer");
    assert_eq!(report.recorded, 1);
    assert!(bench.take().await.is_empty(), "no ping-pong");
    assert!(sim.received().await.expect("received").iter().any(|r| r.outcome == "RECORDED"));
}

#[tokio::test]
async fn shipping_needs_report_ok_and_happens_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SimConfig { accessory_rate: 1.0, ..config(3) };
    let (queues, sim) = open(dir.path(), config);
    sim.generate(1).await.expect("generate");
    let mut bench = Bench::new(&queues).await;
    let r = request_of(&bench.take().await[0]);
    let card = r.card.card_id.as_str();

    // Before REPORT_OK.
    let id = bench.send(Subject::Shipped, &shipped(&r, &[card], vec![])).await;
    let e = error_of(&answer(&sim, &mut bench).await);
    assert_eq!(e.error_code, ErrorCode::CardNotReported);
    assert_eq!(e.correlation_id.as_deref(), Some(id.as_str()));

    bench.send(Subject::CardProduced, &produced(&r, "04:a2:2b:1c")).await;
    // Not in normal form: rejected; then the normalised value.
    assert_eq!(error_of(&answer(&sim, &mut bench).await).error_code, ErrorCode::InvalidReportData);
    bench.send(Subject::CardProduced, &produced(&r, "04A22B1C")).await;
    assert_eq!(answer(&sim, &mut bench).await.subject.as_deref(), Some(Subject::ReportOk.as_str()));

    // More accessories than requested.
    let mut too_many = r.accessories.clone();
    too_many[0].quantity += 1;
    bench.send(Subject::Shipped, &shipped(&r, &[card], too_many)).await;
    assert_eq!(error_of(&answer(&sim, &mut bench).await).error_code, ErrorCode::NotInShipment);

    // The right parcel.
    let id = bench.send(Subject::Shipped, &shipped(&r, &[card], r.accessories.clone())).await;
    let ok = answer(&sim, &mut bench).await;
    assert_eq!(ok.subject.as_deref(), Some(Subject::ShippedOk.as_str()));
    let body: ShippedOk = serde_json::from_slice(&ok.body).expect("SHIPPED_OK");
    assert_eq!(body, ShippedOk { shipment_id: r.shipment_id.clone(), correlation_id: Some(id) });

    // Again.
    bench.send(Subject::Shipped, &shipped(&r, &[card], vec![])).await;
    assert_eq!(error_of(&answer(&sim, &mut bench).await).error_code, ErrorCode::AlreadyShipped);
    // Accessories again, too.
    let one = vec![Accessory { quantity: 1, ..r.accessories[0].clone() }];
    bench.send(Subject::Shipped, &shipped(&r, &[], one)).await;
    assert_eq!(error_of(&answer(&sim, &mut bench).await).error_code, ErrorCode::AlreadyShipped);

    let parcels = sim.parcels().await.expect("parcels");
    assert_eq!(parcels.iter().filter(|p| p.accepted).count(), 1);
    assert_eq!(parcels.len(), 5);
    assert!(sim.card(card).await.expect("card").expect("known").shipped);
}

#[tokio::test]
async fn faults_at_rate_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let faults = FaultRates { invalid_request: 1.0, ..FaultRates::default() };
    let (queues, sim) = open(dir.path(), SimConfig { faults, ..config(4) });
    let report = sim.generate(12).await.expect("generate");
    assert_eq!(report.invalid_requests, 12);
    assert!(report.card_ids.is_empty(), "invalid requests are not cards NGOC knows");
    let got = Bench::new(&queues).await.take().await;
    assert_eq!(got.len(), 12);
    for d in &got {
        assert!(decode_inbound(Subject::RequestSent, &d.body).is_err(), "{}", String::from_utf8_lossy(&d.body));
    }

    // Duplicate sends and conflicts; duplicate detection off so both copies arrive.
    let dir = tempfile::tempdir().expect("tempdir");
    let options = EmbeddedOptions { duplicate_window: Duration::ZERO, ..EmbeddedOptions::default() };
    let queues = Arc::new(EmbeddedQueues::open_file(&dir.path().join("queues.sqlite"), options).expect("queues"));
    let faults = FaultRates { duplicate_send: 1.0, card_conflict: 1.0, spurious_error: 1.0, ..FaultRates::default() };
    let sim = Simulator::open(dir.path(), SimConfig { faults, ..config(5) }, queues.clone()).expect("sim");
    let report = sim.generate(3).await.expect("generate");
    assert_eq!((report.duplicate_sends, report.card_conflicts), (3, 3));
    let mut bench = Bench::new(&queues).await;
    let got = bench.take().await;
    assert_eq!(got.len(), 9, "original, its copy, a conflicting version");
    let requests: Vec<_> = got.iter().map(request_of).collect();
    assert_eq!(got[0].message_id, got[1].message_id, "same messageId twice");
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(requests[0].card.card_id, requests[2].card.card_id);
    assert_ne!(requests[0], requests[2], "same card, different content");
    assert_ne!(got[0].message_id, got[2].message_id);

    // Spurious ERROR to a valid CARD_PRODUCED.
    let r = requests.iter().find(|r| !r.card.expected_report_data_fields.is_empty()).unwrap_or(&requests[0]);
    bench.send(Subject::CardProduced, &produced(r, "04A22B1C")).await;
    assert_eq!(error_of(&answer(&sim, &mut bench).await).error_code, ErrorCode::InternalError);
    assert!(sim.reported_cards().await.expect("reported").is_empty());
}

#[tokio::test]
async fn a_lost_answer_goes_out_when_the_message_is_resent() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Duplicate detection off: the resend reaches NGOC's side, as it does once the window passed.
    let options = EmbeddedOptions { duplicate_window: Duration::ZERO, ..EmbeddedOptions::default() };
    let queues = Arc::new(EmbeddedQueues::open_file(&dir.path().join("queues.sqlite"), options).expect("queues"));
    let faults = FaultRates { lost_answer: 1.0, ..FaultRates::default() };
    let sim = Simulator::open(dir.path(), SimConfig { faults, ..config(9) }, queues.clone()).expect("sim");
    sim.generate(2).await.expect("generate");
    let mut bench = Bench::new(&queues).await;
    let r = request_of(&bench.take().await[0]);
    let id = bench.send(Subject::CardProduced, &produced(&r, "04A22B1C")).await;
    sim.answer_pending(Duration::from_millis(500)).await.expect("answer");
    assert!(bench.take().await.is_empty(), "the answer was lost");
    assert_eq!(sim.reported_cards().await.expect("reported"), std::slice::from_ref(&r.card.card_id), "the report was applied");

    bench.send_as(&id, Subject::CardProduced, &produced(&r, "04A22B1C")).await;
    let got = answer(&sim, &mut bench).await;
    assert_eq!(got.subject.as_deref(), Some(Subject::ReportOk.as_str()));
    match decode_inbound(Subject::ReportOk, &got.body) {
        Ok(Inbound::ReportOk(ok)) => assert_eq!(ok.card_id, r.card.card_id),
        other => panic!("not a REPORT_OK: {other:?}"),
    }
    // Sent once: a third copy of the message gets nothing more.
    bench.send_as(&id, Subject::CardProduced, &produced(&r, "04A22B1C")).await;
    sim.answer_pending(Duration::from_millis(500)).await.expect("answer");
    assert!(bench.take().await.is_empty());
}

#[tokio::test]
async fn a_restart_keeps_the_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (queues, sim) = open(dir.path(), config(6));
    let first = sim.generate(3).await.expect("generate");
    let mut bench = Bench::new(&queues).await;
    let r = request_of(&bench.take().await[0]);
    bench.send(Subject::CardProduced, &produced(&r, "04A22B1C")).await;
    answer(&sim, &mut bench).await;
    drop(sim);

    let sim = Simulator::open(dir.path(), config(6), queues.clone()).expect("reopen");
    assert_eq!(sim.cards().await.expect("cards").len(), 3);
    assert_eq!(sim.reported_cards().await.expect("reported"), std::slice::from_ref(&r.card.card_id));
    // Shipping works across the restart; new ids do not repeat old ones.
    bench.send(Subject::Shipped, &shipped(&r, &[&r.card.card_id], vec![])).await;
    // A parcel may leave accessories for a later one: still accepted.
    assert_eq!(answer(&sim, &mut bench).await.subject.as_deref(), Some(Subject::ShippedOk.as_str()));
    let second = sim.generate(3).await.expect("generate");
    assert!(second.card_ids.iter().all(|c| !first.card_ids.contains(c)));
    assert_eq!(sim.received().await.expect("received").len(), 2);
}

#[tokio::test]
async fn run_answers_until_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (queues, sim) = open(dir.path(), SimConfig { receive_wait_ms: 50, ..config(8) });
    sim.generate(2).await.expect("generate");
    let mut bench = Bench::new(&queues).await;
    let r = request_of(&bench.take().await[0]);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let sim = Arc::new(sim);
    let running = tokio::spawn({
        let sim = sim.clone();
        async move { sim.run(stop_rx).await }
    });
    bench.send(Subject::CardProduced, &produced(&r, "04A22B1C")).await;
    let got = bench.rx.receive(10, Duration::from_secs(5)).await.expect("receive");
    assert_eq!(got.len(), 1);
    stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("stops").expect("join").expect("run ok");
}

#[tokio::test]
async fn run_generates_at_the_configured_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 1200 a minute: one request every 50 ms.
    let (queues, sim) = open(dir.path(), SimConfig { requests_per_minute: 1200, receive_wait_ms: 20, ..config(9) });
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { sim.run(stop_rx).await });
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("stops").expect("join").expect("run ok");
    let got = Bench::new(&queues).await.take().await;
    assert!((3..=30).contains(&got.len()), "{} requests in 0.8 s", got.len());
    got.iter().for_each(|d| {
        request_of(d);
    });
}
