//! A card's life: its statuses, the events that move it, and the questions asked of a status.
//!
//! The one place these rules live. The store keeps the vocabulary ([`CardStatus`], re-exported
//! here) and writes what a transition decides ([`cards::set_status`]); every workflow step that
//! changes a card's status builds its change here ([`Transition`]), and every screen, command or
//! device that asks "may this card be produced?", "which card is next?", "does it hold its
//! shipment back?" or "may it go in a parcel?" asks the predicates below.
//!
//! ```text
//!                      readouts complete
//!   received ─────────────────────────────▶ readouts_captured
//!      │  ▲                                         │
//!      │  └─────── spoiled (any status before ──────┤ produced (CARD_PRODUCED queued)
//!      │           shipping, and ship_error)        ▼
//!      └───────────── produced ───────────────▶ produced ◀────── produced ─────┐
//!                                              │        │                      │
//!                                   REPORT_OK  │        │ ERROR on the report  │
//!                                              ▼        ▼                      │
//!                                        report_ok ──▶ report_error ───────────┘
//!                                              │   (ERROR after REPORT_OK)
//!                              shipped (parcel)│
//!                                              ▼
//!                   ship_error ◀─ ERROR ── shipped ── SHIPPED_OK ─▶ shipped_ok
//!                   (shipped again, or SHIPPED_OK arriving late ─▶ shipped_ok)
//!
//!   refused by us: from received, readouts_captured or report_error; a new request for the
//!   same cardId with new content brings a refused card back as received.
//! ```
//!
//! **Next card to produce** (decided once here, see `docs/decisions/card-lifecycle.md`): the
//! oldest received card that [`may_produce`] — `received`, `readouts_captured` *and*
//! `report_error`. A card NGOC answered with ERROR must be made again, so it is work waiting at
//! the production station like a new one; a card whose readouts are captured waits only for its
//! Produce. The production screen's "next", the PC/SC reader's card in hand and the CLI's job
//! export all take this one definition.

use cardbench_store::Connection;
use cardbench_store::cards::{self, StatusChange, WorklistCursor, WorklistFilter, WorklistRow};

pub use cardbench_store::cards::CardStatus;

/// What happens to a card. The data each carries is given to the transition's builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The last expected readout was stored.
    ReadoutsComplete,
    /// CARD_PRODUCED was queued.
    Produced,
    /// NGOC answered the card's CARD_PRODUCED with REPORT_OK.
    ReportOk,
    /// NGOC answered the card's CARD_PRODUCED with ERROR.
    ReportError,
    /// NGOC sent an ERROR about the card without naming a message of ours.
    NgocErrorNoted,
    /// The card was put in a parcel (SHIPPED queued).
    Shipped,
    /// NGOC answered the card's parcel with SHIPPED_OK.
    ShippedOk,
    /// NGOC answered the card's parcel with ERROR.
    ShipError,
    /// We refused the request (ERROR queued to NGOC).
    Refused,
    /// A misprint or a bad chip: the card is made again.
    Spoiled,
    /// NGOC sent a refused card again with new content.
    ReceivedAgain,
}

impl Event {
    pub const ALL: [Event; 11] = [
        Event::ReadoutsComplete,
        Event::Produced,
        Event::ReportOk,
        Event::ReportError,
        Event::NgocErrorNoted,
        Event::Shipped,
        Event::ShippedOk,
        Event::ShipError,
        Event::Refused,
        Event::Spoiled,
        Event::ReceivedAgain,
    ];
}

/// The status a card in `from` goes to on `event`, or `None` when the event does not apply to
/// it (the caller refuses the action or ignores the message; the card stays as it is).
pub fn next(from: CardStatus, event: Event) -> Option<CardStatus> {
    use CardStatus as S;
    match event {
        Event::ReadoutsComplete => (from == S::Received).then_some(S::ReadoutsCaptured),
        Event::Produced => may_produce(from).then_some(S::Produced),
        Event::ReportOk => awaits_report(from).then_some(S::ReportOk),
        // An ERROR may follow a REPORT_OK (NGOC changed its mind before the card shipped).
        Event::ReportError => matches!(from, S::Produced | S::ReportOk).then_some(S::ReportError),
        // Noted on the card whatever it is; a card awaiting its report cannot get REPORT_OK for
        // it any more, so it is made again like one whose report NGOC refused.
        Event::NgocErrorNoted => Some(if from == S::Produced { S::ReportError } else { from }),
        Event::Shipped => ready_to_ship(from).then_some(S::Shipped),
        // A late SHIPPED_OK for a parcel NGOC first refused still stands.
        Event::ShippedOk => matches!(from, S::Shipped | S::ShipError).then_some(S::ShippedOk),
        Event::ShipError => (from == S::Shipped).then_some(S::ShipError),
        Event::Refused => why_not_refusable(from).is_none().then_some(S::Refused),
        Event::Spoiled => may_spoil(from).then_some(S::Received),
        Event::ReceivedAgain => (from == S::Refused).then_some(S::Received),
    }
}

/// May readouts be (re)captured for a card in `status` and the card produced?
pub fn may_produce(status: CardStatus) -> bool {
    matches!(status, CardStatus::Received | CardStatus::ReadoutsCaptured | CardStatus::ReportError)
}

/// The statuses [`may_produce`] allows, as a worklist filter takes them.
pub const PRODUCIBLE: [CardStatus; 3] = [CardStatus::Received, CardStatus::ReadoutsCaptured, CardStatus::ReportError];

/// Is a CARD_PRODUCED of this card awaiting NGOC's answer (REPORT_OK takes effect)?
pub fn awaits_report(status: CardStatus) -> bool {
    matches!(status, CardStatus::Produced | CardStatus::ReportError)
}

/// Does a card in `status` keep every parcel of its shipment back? Produced without REPORT_OK:
/// awaiting it, or answered with ERROR and not yet made again.
pub fn blocks_shipping(status: CardStatus) -> bool {
    matches!(status, CardStatus::Produced | CardStatus::ReportError)
}

/// May a card in `status` go in a parcel? REPORT_OK, or its parcel refused by NGOC.
pub fn ready_to_ship(status: CardStatus) -> bool {
    matches!(status, CardStatus::ReportOk | CardStatus::ShipError)
}

/// May a card in `status` be spoiled (made again)? Not once it is in a parcel NGOC may accept,
/// nor once refused (only a new request from NGOC brings a refused card back).
pub fn may_spoil(status: CardStatus) -> bool {
    !matches!(status, CardStatus::Shipped | CardStatus::ShippedOk | CardStatus::Refused)
}

/// Why a card in `status` may not be refused, or None when it may. Only a request that has not
/// been accepted by NGOC as produced can be refused: not yet produced, or produced and rejected by
/// NGOC (`report_error`).
pub fn why_not_refusable(status: CardStatus) -> Option<&'static str> {
    match status {
        CardStatus::Received | CardStatus::ReadoutsCaptured | CardStatus::ReportError => None,
        CardStatus::Produced => Some("its CARD_PRODUCED awaits NGOC's answer; wait for REPORT_OK or ERROR"),
        CardStatus::ReportOk => Some("NGOC has accepted it as produced (REPORT_OK); ship it, or spoil it to make it again"),
        CardStatus::Shipped | CardStatus::ShippedOk | CardStatus::ShipError => {
            Some("it was produced, accepted by NGOC (REPORT_OK) and put in a parcel")
        }
        CardStatus::Refused => Some("it is already refused"),
    }
}

/// The worklist filter of the cards still to be produced, oldest first (`limit` of them).
pub fn producible(limit: u32) -> WorklistFilter {
    WorklistFilter { statuses: PRODUCIBLE.to_vec(), limit: Some(limit), ..WorklistFilter::default() }
}

/// The next card to produce after `after` (the production sequence's order: oldest received).
pub fn next_to_produce(conn: &Connection, after: Option<WorklistCursor>) -> cardbench_store::Result<Option<WorklistRow>> {
    let filter = WorklistFilter { after, ..producible(1) };
    Ok(cards::worklist(conn, &filter)?.rows.into_iter().next())
}

/// A card's status change as the store writes it: the status and the columns that go with it.
#[derive(Debug, Clone)]
pub struct Transition<'a> {
    pub event: Event,
    pub to: CardStatus,
    pub change: StatusChange<'a>,
}

impl Transition<'_> {
    /// Writes the change to `card_id` (in the caller's transaction).
    pub fn write(&self, conn: &Connection, card_id: &str, at: &str) -> cardbench_store::Result<()> {
        cards::set_status(conn, card_id, self.to, &self.change, at)
    }
}

fn step<'a>(from: CardStatus, event: Event, change: StatusChange<'a>) -> Option<Transition<'a>> {
    next(from, event).map(|to| Transition { event, to, change })
}

/// Readouts stored: `readouts_captured` once `complete` (from `received`), else the status kept.
pub fn readouts_stored(from: CardStatus, complete: bool) -> Transition<'static> {
    let to = if complete { next(from, Event::ReadoutsComplete).unwrap_or(from) } else { from };
    Transition { event: Event::ReadoutsComplete, to, change: StatusChange::default() }
}

/// CARD_PRODUCED `message_id` queued at `at`: the card awaits its REPORT_OK, and any earlier
/// report or error no longer applies.
pub fn produced<'a>(from: CardStatus, message_id: &'a str, at: &'a str) -> Option<Transition<'a>> {
    step(
        from,
        Event::Produced,
        StatusChange {
            produced_message_id: Some(Some(message_id)),
            produced_at: Some(Some(at)),
            report_ok_at: Some(None),
            last_error: Some(None),
            ..StatusChange::default()
        },
    )
}

/// REPORT_OK taken at `at`: the card may ship.
pub fn report_ok(from: CardStatus, at: &str) -> Option<Transition<'_>> {
    step(from, Event::ReportOk, StatusChange { report_ok_at: Some(Some(at)), last_error: Some(None), ..StatusChange::default() })
}

/// NGOC answered the card's CARD_PRODUCED with ERROR `code`.
pub fn report_error<'a>(from: CardStatus, code: &'a str, details: &'a str) -> Option<Transition<'a>> {
    step(from, Event::ReportError, StatusChange { last_error: Some(Some((code, details))), ..StatusChange::default() })
}

/// NGOC's ERROR `code` about the card, naming no message of ours: always noted on the card.
pub fn ngoc_error_noted<'a>(from: CardStatus, code: &'a str, details: &'a str) -> Transition<'a> {
    let to = next(from, Event::NgocErrorNoted).unwrap_or(from);
    Transition { event: Event::NgocErrorNoted, to, change: StatusChange { last_error: Some(Some((code, details))), ..StatusChange::default() } }
}

/// Put in parcel `parcel_id` (SHIPPED queued).
pub fn shipped(from: CardStatus, parcel_id: i64) -> Option<Transition<'static>> {
    step(from, Event::Shipped, StatusChange { parcel_id: Some(Some(parcel_id)), last_error: Some(None), ..StatusChange::default() })
}

/// The card's parcel got SHIPPED_OK at `at`.
pub fn shipped_ok(from: CardStatus, at: &str) -> Option<Transition<'_>> {
    step(from, Event::ShippedOk, StatusChange { shipped_ok_at: Some(Some(at)), last_error: Some(None), ..StatusChange::default() })
}

/// NGOC answered the card's parcel with ERROR `code`.
pub fn ship_error<'a>(from: CardStatus, code: &'a str, details: &'a str) -> Option<Transition<'a>> {
    step(from, Event::ShipError, StatusChange { last_error: Some(Some((code, details))), ..StatusChange::default() })
}

/// We refused the request with `code` (ERROR queued).
pub fn refused<'a>(from: CardStatus, code: &'a str, details: &'a str) -> Option<Transition<'a>> {
    step(from, Event::Refused, StatusChange { last_error: Some(Some((code, details))), ..StatusChange::default() })
}

/// Spoiled: back to `received`, everything its production decided cleared, counted.
pub fn spoiled(from: CardStatus) -> Option<Transition<'static>> {
    step(
        from,
        Event::Spoiled,
        StatusChange {
            produced_message_id: Some(None),
            produced_at: Some(None),
            report_ok_at: Some(None),
            parcel_id: Some(None),
            last_error: Some(None),
            spoiled: true,
            ..StatusChange::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use CardStatus as S;
    use Event as E;

    /// Every (status, event) → status. `None`: the event does not apply to a card in that status.
    /// A new status or event fails here until its row is written.
    #[rustfmt::skip]
    const TABLE: [(S, [Option<S>; 11]); 9] = [
        //                 ReadoutsComplete        Produced           ReportOk           ReportError          NgocErrorNoted        Shipped            ShippedOk            ShipError            Refused            Spoiled            ReceivedAgain
        (S::Received,         [Some(S::ReadoutsCaptured), Some(S::Produced), None,              None,                Some(S::Received),        None,              None,                None,                Some(S::Refused),  Some(S::Received), None]),
        (S::ReadoutsCaptured, [None,                      Some(S::Produced), None,              None,                Some(S::ReadoutsCaptured),None,              None,                None,                Some(S::Refused),  Some(S::Received), None]),
        (S::Produced,         [None,                      None,              Some(S::ReportOk), Some(S::ReportError),Some(S::ReportError),     None,              None,                None,                None,              Some(S::Received), None]),
        (S::ReportOk,         [None,                      None,              None,              Some(S::ReportError),Some(S::ReportOk),        Some(S::Shipped),  None,                None,                None,              Some(S::Received), None]),
        (S::ReportError,      [None,                      Some(S::Produced), Some(S::ReportOk), None,                Some(S::ReportError),     None,              None,                None,                Some(S::Refused),  Some(S::Received), None]),
        (S::Shipped,          [None,                      None,              None,              None,                Some(S::Shipped),         None,              Some(S::ShippedOk),  Some(S::ShipError),  None,              None,              None]),
        (S::ShippedOk,        [None,                      None,              None,              None,                Some(S::ShippedOk),       None,              None,                None,                None,              None,              None]),
        (S::ShipError,        [None,                      None,              None,              None,                Some(S::ShipError),       Some(S::Shipped),  Some(S::ShippedOk),  None,                None,              Some(S::Received), None]),
        (S::Refused,          [None,                      None,              None,              None,                Some(S::Refused),         None,              None,                None,                None,              None,              Some(S::Received)]),
    ];

    #[test]
    fn every_status_and_event_goes_where_the_table_says() {
        assert_eq!(TABLE.map(|(s, _)| s), S::ALL, "one row per status, in CardStatus::ALL's order");
        for (from, row) in TABLE {
            for (event, want) in E::ALL.into_iter().zip(row) {
                assert_eq!(next(from, event), want, "{from} on {event:?}");
            }
        }
    }

    /// (status, may_produce, awaits_report, blocks_shipping, ready_to_ship, may_spoil, refusable)
    #[rustfmt::skip]
    const PREDICATES: [(S, [bool; 6]); 9] = [
        (S::Received,         [true,  false, false, false, true,  true ]),
        (S::ReadoutsCaptured, [true,  false, false, false, true,  true ]),
        (S::Produced,         [false, true,  true,  false, true,  false]),
        (S::ReportOk,         [false, false, false, true,  true,  false]),
        (S::ReportError,      [true,  true,  true,  false, true,  true ]),
        (S::Shipped,          [false, false, false, false, false, false]),
        (S::ShippedOk,        [false, false, false, false, false, false]),
        (S::ShipError,        [false, false, false, true,  true,  false]),
        (S::Refused,          [false, false, false, false, false, false]),
    ];

    #[test]
    fn every_predicate_of_every_status() {
        assert_eq!(PREDICATES.map(|(s, _)| s), S::ALL);
        for (status, want) in PREDICATES {
            let got = [
                may_produce(status),
                awaits_report(status),
                blocks_shipping(status),
                ready_to_ship(status),
                may_spoil(status),
                why_not_refusable(status).is_none(),
            ];
            assert_eq!(got, want, "{status}: may_produce, awaits_report, blocks_shipping, ready_to_ship, may_spoil, refusable");
            assert_eq!(PRODUCIBLE.contains(&status), may_produce(status), "{status}: PRODUCIBLE is may_produce");
        }
    }

    #[test]
    fn producible_filter_is_the_next_card_definition() {
        let f = producible(7);
        assert_eq!(f.statuses, vec![S::Received, S::ReadoutsCaptured, S::ReportError]);
        assert_eq!(f.limit, Some(7));
    }

    #[test]
    fn each_builder_writes_its_columns() {
        let t = produced(S::ReportError, "m-1", "t").expect("report_error may be produced");
        assert_eq!((t.to, t.change.produced_message_id, t.change.report_ok_at, t.change.last_error), (S::Produced, Some(Some("m-1")), Some(None), Some(None)));
        assert!(produced(S::Produced, "m", "t").is_none());
        let t = spoiled(S::ShipError).expect("a refused parcel's card may be spoiled");
        assert_eq!((t.to, t.change.parcel_id, t.change.spoiled), (S::Received, Some(None), true));
        assert!(spoiled(S::Shipped).is_none());
        assert_eq!(readouts_stored(S::Received, true).to, S::ReadoutsCaptured);
        assert_eq!(readouts_stored(S::Received, false).to, S::Received);
        assert_eq!(readouts_stored(S::ReportError, true).to, S::ReportError);
        assert_eq!(ngoc_error_noted(S::Produced, "E", "d").to, S::ReportError);
        assert_eq!(ngoc_error_noted(S::ShippedOk, "E", "d").to, S::ShippedOk);
        assert_eq!(shipped(S::ReportOk, 4).map(|t| t.change.parcel_id), Some(Some(Some(4))));
        assert!(report_ok(S::ReportError, "t").is_some_and(|t| t.change.report_ok_at == Some(Some("t"))));
        assert!(refused(S::Produced, "C", "d").is_none());
    }
}
