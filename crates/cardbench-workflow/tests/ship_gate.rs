//! Issue 17: the shipment gate explains every card that keeps a parcel back, the settings may
//! require carrier and tracking on every parcel, and a resend keeps the first send time. Real
//! SQLite files on disk.

use std::sync::Arc;

use cardbench_protocol::Subject;
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_workflow::{
    GateNoteKind, GateState, IngestOutcome, ParcelDetail, ParcelRequest, ReadoutInput, ShipProblem, ShipRules, Workflow,
    WorkflowError,
};
use cardbench_sim::fixtures;
use serde_json::{Value, json};

struct Bench {
    _dir: tempfile::TempDir,
    wf: Workflow,
}

fn bench() -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = cardbench_store::testing::store_in(dir.path()).expect("open store");
    Bench { _dir: dir, wf: Workflow::new(Arc::new(store)) }
}

/// The simulator's request (`cardbench_sim::fixtures`).
fn request(card_id: &str, shipment_id: &str) -> Value {
    fixtures::request_json(card_id, shipment_id)
}

impl Bench {
    fn send(&self, message_id: &str, subject: &str, body: &Value) -> IngestOutcome {
        let bytes = serde_json::to_vec(body).expect("json");
        let envelope = Envelope { message_id: Some(message_id), subject: Some(subject), body: &bytes, ..Default::default() };
        self.wf.ingest(&[envelope]).expect("ingest commits").outcomes.into_iter().next().expect("one outcome")
    }

    fn receive(&self, cards: &[&str], shipment_id: &str) {
        for card in cards {
            self.send(&format!("req-{card}"), Subject::RequestSent.as_str(), &request(card, shipment_id));
        }
    }

    fn produce(&self, card_id: &str, uid: &str) -> String {
        self.wf
            .produce("alice", card_id, &[ReadoutInput { field: "MIFARE_UID".into(), value: uid.into() }], "typed")
            .expect("produce")
            .message_id
    }

    fn report_ok(&self, card_id: &str, correlation: &str) {
        let body = json!({"cardId": card_id, "correlationId": correlation});
        self.send(&format!("ok-{card_id}"), Subject::ReportOk.as_str(), &body);
    }
}

fn parcel(shipment_id: &str, cards: &[&str], carrier: Option<&str>, tracking: Option<&str>) -> ParcelRequest {
    ParcelRequest {
        shipment_id: shipment_id.into(),
        cards: cards.iter().map(|c| (*c).to_owned()).collect(),
        carrier: carrier.map(str::to_owned),
        tracking_id: tracking.map(str::to_owned),
        ..Default::default()
    }
}

#[test]
fn the_rule_names_each_required_detail_left_blank_and_requires_nothing_by_default() {
    assert!(ShipRules::default().missing(None, None).is_empty(), "not required unless the settings say so");
    let both = ShipRules { require_carrier: true, require_tracking: true };
    assert_eq!(
        both.missing(Some("  "), None),
        vec![
            ShipProblem::DetailRequired { detail: ParcelDetail::Carrier },
            ShipProblem::DetailRequired { detail: ParcelDetail::TrackingId }
        ]
    );
    assert!(both.missing(Some("PostNord"), Some("PN1")).is_empty());
    let text = ShipRules { require_tracking: true, ..Default::default() }.missing(Some("PostNord"), Some(""))[0].to_string();
    assert_eq!(text, "a tracking id is required on every parcel (setting workstation.require_tracking): fill it in");
}

#[test]
fn ship_refuses_a_parcel_without_a_required_carrier_or_tracking_and_sends_it_once_given() {
    let b = bench();
    b.receive(&["C-1", "C-2"], "S-1");
    for (card, uid) in [("C-1", "04000001"), ("C-2", "04000002")] {
        let m = b.produce(card, uid);
        b.report_ok(card, &m);
    }
    let strict = b.wf.clone().with_ship_rules(ShipRules { require_carrier: true, require_tracking: true });
    match strict.ship("bob", &parcel("S-1", &["C-1"], Some("PostNord"), None)) {
        Err(WorkflowError::ShipRefused(problems)) => {
            assert_eq!(problems, vec![ShipProblem::DetailRequired { detail: ParcelDetail::TrackingId }]);
        }
        other => panic!("a parcel without its required tracking id must be refused: {other:?}"),
    }
    let shipped = || {
        b.wf.store()
            .read(|c| outbox::list(c, &OutboxFilter { subject: Some(Subject::Shipped.as_str().into()), ..Default::default() }))
            .expect("read")
            .len()
    };
    assert_eq!(shipped(), 0, "nothing was queued");
    strict.ship("bob", &parcel("S-1", &["C-1"], Some("PostNord"), Some("PN1"))).expect("with both it ships");
    // The default (no setting): as before, neither is required.
    b.wf.ship("bob", &parcel("S-1", &["C-2"], None, None)).expect("not required by default");
    assert_eq!(shipped(), 2);
}

#[test]
fn the_gate_names_every_card_that_keeps_the_shipment_back_and_what_stays_for_later() {
    let b = bench();
    b.receive(&["C-1", "C-2", "C-3"], "S-1");
    // Nothing produced: "nothing ready" says what it waits for.
    let gate = b.wf.shipment_detail("S-1").expect("detail").gate;
    assert_eq!(gate.state, GateState::Waiting);
    assert_eq!(
        gate.summary,
        "nothing ready to ship: waiting for 3 card(s) to be produced and get NGOC's REPORT_OK: C-1, C-2, C-3"
    );
    assert_eq!(gate.notes.iter().filter(|n| n.kind == GateNoteKind::NotProduced).count(), 3, "{:?}", gate.notes);

    let m1 = b.produce("C-1", "04000001");
    b.report_ok("C-1", &m1);
    // A ready card beside cards not made yet: never a bare "ready".
    let gate = b.wf.shipment_detail("S-1").expect("detail").gate;
    assert_eq!(gate.state, GateState::Ready);
    assert_eq!(gate.summary, "ready: 1 card(s) may ship; 2 card(s) not produced yet stay for a later parcel: C-2, C-3");
    let c2 = gate.notes.iter().find(|n| n.card_id == "C-2").expect("C-2 is named");
    assert_eq!((c2.kind, c2.text.as_str()), (GateNoteKind::NotProduced, "not produced yet (received): stays for a later parcel"));

    // A card awaiting REPORT_OK blocks, and is named with why.
    b.produce("C-2", "04000002");
    let gate = b.wf.shipment_detail("S-1").expect("detail").gate;
    assert_eq!(gate.state, GateState::Blocked);
    assert!(gate.summary.starts_with("blocked: 1 card(s) await REPORT_OK: C-2; 1 card(s) not produced yet"), "{}", gate.summary);
    assert!(gate.notes.iter().any(|n| n.card_id == "C-2" && n.kind == GateNoteKind::AwaitingReportOk));
    assert!(gate.notes.iter().any(|n| n.card_id == "C-3" && n.kind == GateNoteKind::NotProduced));
}

#[test]
fn a_shipment_all_shipped_says_so_without_a_note_to_act_on() {
    let b = bench();
    b.receive(&["C-1"], "S-1");
    let m1 = b.produce("C-1", "04000001");
    b.report_ok("C-1", &m1);
    b.wf.ship("bob", &parcel("S-1", &["C-1"], None, None)).expect("ships");
    let gate = b.wf.shipment_detail("S-1").expect("detail").gate;
    assert_eq!((gate.state, gate.summary.as_str()), (GateState::AllShipped, "all cards shipped"));
    assert!(gate.notes.is_empty(), "{:?}", gate.notes);
}

#[test]
fn a_resend_keeps_the_first_send_time_and_counts_itself() {
    let b = bench();
    b.receive(&["C-1"], "S-1");
    let message_id = b.produce("C-1", "04000001");
    let row = b.wf.store().read(|c| outbox::by_message_id(c, &message_id)).expect("read").expect("queued");
    b.wf.store().write(|tx| outbox::mark_sent(tx, row.id, "2026-12-01T08:00:00.000Z")).expect("sent");
    b.wf.resend("carol", row.id).expect("resend");
    let get = || b.wf.store().read(|c| outbox::get(c, row.id)).expect("read").expect("row");
    let resent = get();
    assert_eq!(resent.message_id, message_id, "the same messageId");
    assert_eq!(resent.sent_at, None, "back in line");
    assert_eq!(resent.first_sent_at.as_deref(), Some("2026-12-01T08:00:00.000Z"), "the first send is kept");
    assert_eq!(resent.resent_count, 1);
    assert!(resent.last_resent_at.is_some());
    b.wf.store().write(|tx| outbox::mark_sent(tx, row.id, "2026-12-02T09:00:00.000Z")).expect("sent again");
    let again = get();
    assert_eq!(again.first_sent_at.as_deref(), Some("2026-12-01T08:00:00.000Z"), "still the first send");
    assert_eq!(again.sent_at.as_deref(), Some("2026-12-02T09:00:00.000Z"), "beside the latest");
}
