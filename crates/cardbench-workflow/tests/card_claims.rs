//! Issue 15: cards in hand. A card taken at one station is shown as taken at the others and
//! cannot be produced there meanwhile; two stations never both take one card, by hand or by
//! "next in sequence"; a claim left by a dead station runs out. Two stores on one database (two
//! stations): PostgreSQL with `CARDBENCH_TEST_ENGINE=postgres`, one SQLite file otherwise.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::cards::{self, CardStatus, WorklistFilter};
use cardbench_store::inbox::Envelope;
use cardbench_workflow::{ApplyOutcome, ReadoutInput, Workflow, WorkflowError};

fn station(store: cardbench_store::Store, name: &str) -> Workflow {
    Workflow::new(Arc::new(store)).with_station(name)
}

fn two_stations(dir: &std::path::Path) -> (Workflow, Workflow) {
    let (a, b) = cardbench_store::testing::two_stores_in(dir).expect("two stations on one database");
    (station(a, "station-a"), station(b, "station-b"))
}

/// A third connection to the database `of` works on (another process of a station).
fn another_store(of: &Workflow, dir: &std::path::Path) -> cardbench_store::Store {
    if cardbench_store::testing::on_postgres() {
        // The test server takes no password: the store's shown URL is its URL.
        cardbench_store::Store::open_url(&of.store().path().display().to_string()).expect("open")
    } else {
        cardbench_store::Store::open_in(dir).expect("open")
    }
}

fn uid(n: usize) -> Vec<ReadoutInput> {
    vec![ReadoutInput { field: "MIFARE_UID".into(), value: format!("04A1B2C3{n:06X}") }]
}

/// `n` cards `<prefix>-0…`, received in that order, in one shipment.
fn cards(wf: &Workflow, prefix: &str, n: usize) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|i| format!("{prefix}-{i:04}")).collect();
    let bodies: Vec<(String, Vec<u8>)> = ids
        .iter()
        .map(|id| (format!("req-{id}"), serde_json::to_vec(&fixtures::request_json(id, &format!("S-{prefix}"))).expect("json")))
        .collect();
    for chunk in bodies.chunks(100) {
        let envelopes: Vec<Envelope<'_>> = chunk
            .iter()
            .map(|(m, b)| Envelope { message_id: Some(m), subject: Some(Subject::RequestSent.as_str()), body: b, ..Default::default() })
            .collect();
        wf.ingest(&envelopes).expect("ingest");
    }
    ids
}

fn status(wf: &Workflow, card_id: &str) -> CardStatus {
    wf.store().read(|c| cards::get(c, card_id)).expect("read").expect("card").status
}

fn taken_by(result: Result<impl std::fmt::Debug, WorkflowError>) -> String {
    match result {
        Err(WorkflowError::TakenElsewhere { station, .. }) => station,
        other => panic!("expected TakenElsewhere, got {other:?}"),
    }
}

#[test]
fn two_stations_taking_one_card_at_once_never_both_get_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = two_stations(dir.path());
    let rounds = 50;
    let ids = cards(&a, "T", rounds);
    let mut wins = [0, 0];
    for id in &ids {
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = [(a.clone(), "ana"), (b.clone(), "bo")]
            .into_iter()
            .map(|(wf, operator)| {
                let (go, id) = (barrier.clone(), id.clone());
                std::thread::spawn(move || {
                    go.wait();
                    wf.take_card(operator, &id)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
        let won: Vec<usize> = results.iter().enumerate().filter(|(_, r)| matches!(r, Ok(Some(_)))).map(|(i, _)| i).collect();
        assert_eq!(won.len(), 1, "{id}: exactly one station takes the card: {results:?}");
        let (winner, loser) = (won[0], 1 - won[0]);
        wins[winner] += 1;
        let winner_name = ["station-a", "station-b"][winner];
        match &results[loser] {
            Err(WorkflowError::TakenElsewhere { station, operator, card_id, .. }) => {
                assert_eq!((station.as_str(), card_id.as_str()), (winner_name, id.as_str()));
                assert_eq!(operator, ["ana", "bo"][winner]);
            }
            other => panic!("{id}: the other station is told who holds it, got {other:?}"),
        }
    }
    eprintln!("wins: station-a {}, station-b {}", wins[0], wins[1]);
}

#[test]
fn two_stations_in_sequence_mode_are_never_handed_the_same_card() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = two_stations(dir.path());
    let per_station = 200;
    let ids = cards(&a, "Q", 2 * per_station);
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = [(a.clone(), "ana", 0usize), (b.clone(), "bo", 1usize)]
        .into_iter()
        .map(|(wf, operator, n)| {
            let go = barrier.clone();
            std::thread::spawn(move || {
                let (mut handed, mut failed) = (Vec::new(), Vec::new());
                for i in 0..per_station {
                    // Both stations ask at the same moment every round (a failure is noted, not
                    // panicked on, so the other station is never left waiting at the barrier).
                    go.wait();
                    let row = match wf.take_next_card(operator, None) {
                        Ok(Some(row)) if row.taken.as_ref().is_some_and(|c| c.station == wf.station()) => row,
                        other => {
                            failed.push(format!("round {i}: take next gave {other:?}"));
                            continue;
                        }
                    };
                    // Produced at once: it leaves the sequence and its claim ends.
                    if let Err(e) = wf.produce(operator, &row.card_id, &uid(2 * i + n), "scan") {
                        failed.push(format!("round {i}: {} could not produce {}, the card it was handed: {e}", wf.station(), row.card_id));
                    }
                    handed.push(row.card_id);
                }
                (handed, failed)
            })
        })
        .collect();
    let (handed, failed): (Vec<Vec<String>>, Vec<Vec<String>>) = handles.into_iter().map(|h| h.join().expect("station thread")).unzip();
    let (at_a, at_b): (HashSet<&String>, HashSet<&String>) = (handed[0].iter().collect(), handed[1].iter().collect());
    let both: Vec<&&String> = at_a.intersection(&at_b).collect();
    assert!(both.is_empty(), "{} cards handed to both stations: {both:?}", both.len());
    let failed: Vec<&String> = failed.iter().flatten().collect();
    assert!(failed.is_empty(), "{} failures, first: {:?}", failed.len(), &failed[..failed.len().min(3)]);
    assert_eq!((at_a.len(), at_b.len()), (per_station, per_station), "no station is handed a card twice");
    assert!(ids.iter().all(|id| status(&a, id) == CardStatus::Produced), "every card produced once");
    assert_eq!(a.take_next_card("ana", None).expect("take next"), None, "nothing left");
}

#[test]
fn a_claim_left_by_a_dead_station_runs_out_and_is_taken_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = two_stations(dir.path());
    let (a, b) = (a.with_claim_ttl(Duration::from_millis(600)), b.with_claim_ttl(Duration::from_millis(600)));
    let ids = cards(&a, "D", 2);
    let claim = a.take_card("ana", &ids[0]).expect("take").expect("a producible card is taken");
    assert_eq!((claim.station.as_str(), claim.operator.as_str()), ("station-a", "ana"));
    assert_eq!(taken_by(b.take_card("bo", &ids[0])), "station-a");
    // Sequence mode at B skips it.
    assert_eq!(b.take_next_card("bo", None).expect("next").map(|r| r.card_id), Some(ids[1].clone()));
    b.release_card(&ids[1]).expect("release");

    // Station A dies: nobody renews its claim.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(b.card_taken_elsewhere(&ids[0]).expect("holder"), None, "an expired claim holds nothing");
    let row = b.take_next_card("bo", None).expect("next").expect("a card");
    assert_eq!(row.card_id, ids[0], "the dead station's card is first in sequence again");
    let taken = b.take_card("bo", &ids[0]).expect("renew").expect("held");
    assert_eq!((taken.station.as_str(), taken.operator.as_str()), ("station-b", "bo"));
    // A comes back: the card is B's now.
    assert_eq!(taken_by(a.produce("ana", &ids[0], &uid(1), "typed")), "station-b");
    b.produce("bo", &ids[0], &uid(1), "typed").expect("the new holder produces");
}

#[test]
fn a_card_held_elsewhere_is_refused_and_the_holder_station_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = two_stations(dir.path());
    let ids = cards(&a, "P", 3);
    let card = &ids[0];
    let claim = a.take_card("ana", card).expect("take").expect("held");

    // Station B: every way of producing or capturing is refused, and nothing changes.
    let err = b.produce("bo", card, &uid(1), "typed").expect_err("produce elsewhere");
    assert_eq!(err.code(), "taken_elsewhere");
    let text = err.to_string();
    assert!(text.contains(&format!("{card} is taken at station-a by ana since")), "{text}");
    assert_eq!(taken_by(b.apply_readouts("bo", card, &uid(1), "reader")), "station-a");
    assert_eq!(taken_by(b.save_readouts("bo", card, &uid(1), "typed")), "station-a");
    let (mut outcomes, ()) = b
        .apply_readout_batch("encoder", &[(card.clone(), uid(1)), (ids[1].clone(), uid(2))], "hotfolder", false, |_, _| Ok(()))
        .expect("batch");
    assert!(matches!(outcomes[1], Ok(ApplyOutcome::Produced(_))), "the other rows apply: {:?}", outcomes[1]);
    assert_eq!(taken_by(outcomes.remove(0)), "station-a", "a hot folder row of a card held elsewhere is refused");
    assert_eq!(status(&a, card), CardStatus::Received);

    // What B shows: the worklist row and the card say who holds it; A sees its own card free.
    let rows = b.store().read(|c| cards::worklist(c, &WorklistFilter::default())).expect("worklist").rows;
    let row = rows.iter().find(|r| &r.card_id == card).expect("row");
    assert_eq!(b.held_elsewhere(row.taken.clone()).map(|c| (c.station, c.operator, c.taken_at)), Some(("station-a".into(), "ana".into(), claim.taken_at.clone())));
    assert_eq!(a.held_elsewhere(row.taken.clone()), None, "a station's own claim is not 'elsewhere'");
    assert!(rows.iter().filter(|r| &r.card_id != card).all(|r| r.taken.is_none()), "only the card taken is marked");
    let detail = b.card_detail(card).expect("detail");
    assert_eq!(detail.taken.as_ref().map(|c| c.station.as_str()), Some("station-a"));
    assert!(detail.next_step.contains("taken at station-a by ana"), "{}", detail.next_step);
    assert_eq!(a.card_detail(card).expect("detail").taken, None);

    // Another process of station A (another store, another operator): not blocked.
    let a2 = station(another_store(&a, dir.path()), "station-a");
    let renewed = a2.take_card("cy", card).expect("the same station renews").expect("held");
    assert_eq!(renewed.taken_at, claim.taken_at, "a renewal keeps when the card was taken");
    a2.produce("cy", card, &uid(1), "typed").expect("the holding station produces");
    assert_eq!(status(&a, card), CardStatus::Produced);
    assert_eq!(a.card_taken_elsewhere(card).expect("holder"), None);
    assert_eq!(b.card_taken_elsewhere(card).expect("holder"), None, "producing releases the card");
    assert!(b.store().read(|c| cardbench_store::claims::holder(c, card, "0000")).expect("read").is_none(), "no claim row is left");

    // Released by hand: the other station takes it at once.
    a.take_card("ana", &ids[2]).expect("take").expect("held");
    assert_eq!(taken_by(b.take_card("bo", &ids[2])), "station-a");
    a.release_card(&ids[2]).expect("release");
    b.take_card("bo", &ids[2]).expect("take after release").expect("held");
    // A card that cannot be produced is looked at, not held.
    assert_eq!(a.take_card("ana", card).expect("take a produced card"), None);
}
