//! Production: capturing readouts, queuing CARD_PRODUCED, spoiling and redoing a card.

use cardbench_protocol::{CardProduced, Subject};
use cardbench_store::audit::{self, NewAudit};
use crate::reporting::{EventData, Topic};
use cardbench_store::cards::{self, CardRow, CardStatus};
use cardbench_store::outbox::{self, NewOutboxRow};
use cardbench_store::{Connection, batch, readouts};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::claims::Hand;
use crate::error::{Result, WorkflowError};
use crate::lifecycle;
use crate::report_fields::{ReportSettings, chip_owner, resolve};
use crate::{Workflow, check_operator};

/// A readout as captured: the field, the raw value, and where it came from (typed, scan, reader,
/// hotfolder) for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadoutInput {
    pub field: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceResult {
    pub card_id: String,
    /// messageId of the queued CARD_PRODUCED; REPORT_OK will correlate to it.
    pub message_id: String,
    pub report_data: IndexMap<String, String>,
}

impl Workflow {
    /// Checks and stores readouts for a card without producing it (e.g. one field scanned, the
    /// next still to come). Returns the card's status afterwards.
    pub fn save_readouts(&self, operator: &str, card_id: &str, values: &[ReadoutInput], source: &str) -> Result<CardStatus> {
        let operator = check_operator(operator)?;
        let settings = self.report_settings();
        let hand = self.hand(operator, true);
        self.store().write(|tx| {
            hand.hold(tx, card_id)?;
            let card = load_card(tx, card_id)?;
            let now = cardbench_store::time::now();
            let (status, _) = store_readouts(tx, settings, &card, values, source, &now, true, false)?;
            audit_readouts_saved(tx, operator, &card, values, source, &now)?;
            Ok(status)
        })
    }

    /// Stores `values` (may be empty if all were captured before), checks that every expected
    /// field is present, and queues CARD_PRODUCED — all in one transaction.
    pub fn produce(&self, operator: &str, card_id: &str, values: &[ReadoutInput], source: &str) -> Result<ProduceResult> {
        let operator = check_operator(operator)?;
        let hand = self.hand(operator, true);
        let produced = self.store().write(|tx| produce_in(tx, self.report_settings(), &hand, card_id, values, source, false))?;
        self.outbox_grew();
        Ok(produced)
    }

    /// One physical action per card (a chip on a reader, a scan): stores `values` and, when every
    /// expected field is then present, queues CARD_PRODUCED — in one transaction, so a refusal
    /// leaves the card exactly as it was.
    pub fn apply_readouts(&self, operator: &str, card_id: &str, values: &[ReadoutInput], source: &str) -> Result<ApplyOutcome> {
        let operator = check_operator(operator)?;
        let hand = self.hand(operator, true);
        let outcome = self.store().write(|tx| apply_readouts_in(tx, self.report_settings(), &hand, card_id, values, source, false))?;
        if matches!(outcome, ApplyOutcome::Produced(_)) {
            self.outbox_grew();
        }
        Ok(outcome)
    }

    /// Applies many cards' readouts in ONE transaction (an encoder's result file: one fsync for
    /// 10,000 rows instead of 10,000). Each row runs under its own savepoint, so a refused row
    /// leaves nothing behind and the other rows still apply. `complete_only`: a row that would
    /// leave expected fields missing is refused instead of saved. Values for fields the row's card
    /// does not expect are left out (a result file has columns for many kinds of card), except a
    /// chip's value that fills fields it does expect (see [`crate::report_fields`]). `also`
    /// runs in the same transaction after the rows (e.g. to record that a file was taken).
    pub fn apply_readout_batch<T>(
        &self,
        operator: &str,
        rows: &[(String, Vec<ReadoutInput>)],
        source: &str,
        complete_only: bool,
        also: impl FnOnce(&Connection, &[Result<ApplyOutcome>]) -> Result<T>,
    ) -> Result<(Vec<Result<ApplyOutcome>>, T)> {
        let operator = check_operator(operator)?;
        // A file of many cards only refuses those another station holds: no claim written per row.
        let hand = self.hand(operator, false);
        let (outcomes, also) = self.store().write(|tx| {
            // A file's cards, readouts, outbox and audit rows outgrow SQLite's default 2 MB page
            // cache (measured: the rows apply about a quarter faster with 32 MB). Raised for the
            // batch only; the connection gets its own setting back.
            batch::with_page_cache(tx, 32_000, || apply_batch_in(tx, self.report_settings(), &hand, rows, source, complete_only, also))
        })?;
        if outcomes.iter().any(|o| matches!(o, Ok(ApplyOutcome::Produced(_)))) {
            self.outbox_grew();
        }
        Ok((outcomes, also))
    }

    /// A misprint or a bad chip: the card is made again. Its readouts are cleared and it goes back
    /// to `received`; a REPORT_OK for the old production is then ignored. Refused once shipped.
    pub fn spoil(&self, operator: &str, card_id: &str, reason: &str) -> Result<()> {
        let operator = check_operator(operator)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(WorkflowError::InvalidRequest("say why the card is spoiled".into()));
        }
        self.store().write(|tx| {
            let card = load_card(tx, card_id)?;
            // A refused card was answered with ERROR: only a new request from NGOC brings it back.
            let Some(spoiled) = lifecycle::spoiled(card.status) else {
                return Err(WorkflowError::NotAllowed { card_id: card_id.to_owned(), status: card.status, action: "spoil" });
            };
            let now = cardbench_store::time::now();
            readouts::clear(tx, card_id)?;
            spoiled.write(tx, card_id, &now)?;
            audit::record(
                tx,
                &NewAudit {
                    at: &now,
                    operator,
                    action: actions::SPOILED,
                    card_id: Some(card_id),
                    shipment_id: Some(&card.shipment_id),
                    details: Some(&serde_json::json!({ "reason": reason, "previousStatus": card.status })),
                },
            )?;
            Ok(())
        })
    }
}

/// Audit action names, shared with reports that read the audit log.
pub mod actions {
    pub const READOUTS_SAVED: &str = "readouts_saved";
    pub const PRODUCED: &str = "produced";
    pub const SPOILED: &str = "spoiled";
    pub const REFUSED: &str = "refused";
    pub const SHIPPED: &str = "shipped";
    pub const RESENT: &str = "resent";
    pub const CONFLICT_RESOLVED: &str = "conflict_resolved";
}

pub(crate) fn load_card(conn: &Connection, card_id: &str) -> Result<CardRow> {
    cards::get(conn, card_id)?.ok_or_else(|| WorkflowError::UnknownCard(card_id.to_owned()))
}

/// The card as it is once its shipment is held for this transaction ([`shipments::lock`]): a
/// parcel of the same shipment being written at another station is waited for, so the card read
/// here is the one that parcel's gate saw, or will see.
fn load_card_for_production(conn: &Connection, card_id: &str) -> Result<CardRow> {
    let card = load_card(conn, card_id)?;
    if cardbench_store::shipments::lock(conn, &card.shipment_id)? { load_card(conn, card_id) } else { Ok(card) }
}

fn apply_batch_in<T>(
    tx: &Connection,
    settings: &ReportSettings,
    hand: &Hand<'_>,
    rows: &[(String, Vec<ReadoutInput>)],
    source: &str,
    complete_only: bool,
    also: impl FnOnce(&Connection, &[Result<ApplyOutcome>]) -> Result<T>,
) -> Result<(Vec<Result<ApplyOutcome>>, T)> {
    let mut results = Vec::with_capacity(rows.len());
    for (card_id, values) in rows {
        // Prepared once (cached), not parsed per row: this loop runs 10,000 times a file.
        batch::savepoint(tx, BATCH_ROW)?;
        let result = if complete_only {
            produce_in(tx, settings, hand, card_id, values, source, true).map(ApplyOutcome::Produced)
        } else {
            apply_readouts_in(tx, settings, hand, card_id, values, source, true)
        };
        if result.is_err() {
            batch::roll_back_to(tx, BATCH_ROW)?;
        }
        batch::release(tx, BATCH_ROW)?;
        // A store failure is not a row problem: abandon the whole batch.
        if let Err(WorkflowError::Store(e)) = result {
            return Err(WorkflowError::Store(e));
        }
        results.push(result);
    }
    let extra = also(tx, &results)?;
    Ok((results, extra))
}

/// The savepoint each row of a batch runs under.
const BATCH_ROW: batch::Savepoint = batch::Savepoint::BatchRow;

/// What applying readouts did to a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum ApplyOutcome {
    /// Saved; the card still misses `missing` (or has them all and waits to be produced).
    Saved { card_id: String, status: CardStatus, missing: Vec<String> },
    /// All expected fields present: CARD_PRODUCED queued.
    Produced(ProduceResult),
}

fn apply_readouts_in(
    tx: &Connection,
    settings: &ReportSettings,
    hand: &Hand<'_>,
    card_id: &str,
    values: &[ReadoutInput],
    source: &str,
    only_expected: bool,
) -> Result<ApplyOutcome> {
    hand.hold(tx, card_id)?;
    let card = load_card_for_production(tx, card_id)?;
    let now = cardbench_store::time::now();
    let (status, stored) = store_readouts(tx, settings, &card, values, source, &now, true, only_expected)?;
    let missing = missing_fields(settings, &card, &stored);
    if missing.is_empty() {
        let produced = queue_card_produced(tx, settings, hand.operator, &card, stored, source, &now)?;
        hand.done(tx, card_id)?;
        return Ok(ApplyOutcome::Produced(produced));
    }
    audit_readouts_saved(tx, hand.operator, &card, values, source, &now)?;
    Ok(ApplyOutcome::Saved { card_id: card_id.to_owned(), status, missing })
}

/// The required fields of `card` (report data, then external data) that `stored` does not hold,
/// in the request's order.
fn missing_fields(settings: &ReportSettings, card: &CardRow, stored: &[readouts::ReadoutRow]) -> Vec<String> {
    settings.required_fields(card).into_iter().filter(|f| !stored.iter().any(|r| &r.field == f)).collect()
}

fn audit_readouts_saved(tx: &Connection, operator: &str, card: &CardRow, values: &[ReadoutInput], source: &str, now: &str) -> Result<()> {
    audit::record(
        tx,
        &NewAudit {
            at: now,
            operator,
            action: actions::READOUTS_SAVED,
            card_id: Some(&card.card_id),
            shipment_id: Some(&card.shipment_id),
            details: Some(&serde_json::json!({ "fields": values.iter().map(|v| &v.field).collect::<Vec<_>>(), "source": source })),
        },
    )?;
    Ok(())
}

/// Holds the card (refused when another station does), then stores `values` and queues
/// CARD_PRODUCED; the claim ends with the production, in the same transaction.
fn produce_in(
    tx: &Connection,
    settings: &ReportSettings,
    hand: &Hand<'_>,
    card_id: &str,
    values: &[ReadoutInput],
    source: &str,
    only_expected: bool,
) -> Result<ProduceResult> {
    hand.hold(tx, card_id)?;
    let card = load_card_for_production(tx, card_id)?;
    let now = cardbench_store::time::now();
    // The status is set to `produced` below, in the same transaction: no intermediate update.
    let (_, stored) = store_readouts(tx, settings, &card, values, source, &now, false, only_expected)?;
    let produced = queue_card_produced(tx, settings, hand.operator, &card, stored, source, &now)?;
    hand.done(tx, card_id)?;
    Ok(produced)
}

/// With every expected field in `stored`: queues CARD_PRODUCED carrying exactly those fields and
/// marks the card produced; otherwise refuses, naming what is missing.
fn queue_card_produced(
    tx: &Connection,
    settings: &ReportSettings,
    operator: &str,
    card: &CardRow,
    stored: Vec<readouts::ReadoutRow>,
    source: &str,
    now: &str,
) -> Result<ProduceResult> {
    let card_id = card.card_id.as_str();
    let missing = missing_fields(settings, card, &stored);
    if !missing.is_empty() {
        return Err(WorkflowError::MissingReadouts { card_id: card_id.to_owned(), missing });
    }
    let stored: IndexMap<String, String> = stored.into_iter().map(|r| (r.field, r.value)).collect();
    let (report_data, external_report_data) = report_data_of(settings, card, &stored);
    let body = CardProduced {
        organisation_id: card.organisation_id.clone(),
        shipment_id: card.shipment_id.clone(),
        card_id: card.card_id.clone(),
        produced: chrono::Utc::now(),
        report_data: report_data.clone(),
        external_report_data,
    };
    let json = serde_json::to_string(&body).map_err(|source| WorkflowError::Encode { what: "CARD_PRODUCED", source })?;
    let queued = outbox::insert(
        tx,
        &NewOutboxRow {
            subject: Subject::CardProduced.as_str(),
            correlation_id: None,
            body: &json,
            card_id: Some(card_id),
            shipment_id: Some(&card.shipment_id),
            created_at: now,
        },
    )?;
    let produced = lifecycle::produced(card.status, &queued.message_id, now)
        .ok_or(WorkflowError::NotAllowed { card_id: card_id.to_owned(), status: card.status, action: "produce" })?;
    produced.write(tx, card_id, now)?;
    crate::reporting::emit(tx, Topic::CardProduced, EventData::card(card), now)?;
    audit::record(
        tx,
        &NewAudit {
            at: now,
            operator,
            action: actions::PRODUCED,
            card_id: Some(card_id),
            shipment_id: Some(&card.shipment_id),
            details: Some(&serde_json::json!({ "messageId": queued.message_id, "source": source })),
        },
    )?;
    Ok(ProduceResult { card_id: card_id.to_owned(), message_id: queued.message_id, report_data })
}

/// `reportData` and `externalReportData` as CARD_PRODUCED carries them, from the card's stored
/// readouts: exactly the expected fields in the request's order (each translation of a chip read
/// is a field of its own, filled when the chip was read), then the external report data asked
/// for. A field not captured is empty. The one rule for the body and the card API's report
/// (which masks the external values).
pub(crate) fn report_data_of(
    settings: &ReportSettings,
    card: &CardRow,
    stored: &IndexMap<String, String>,
) -> (IndexMap<String, String>, IndexMap<String, String>) {
    let expected = &card.request.card.expected_report_data_fields;
    let report_data = expected.iter().map(|f| (f.clone(), stored.get(f).cloned().unwrap_or_default())).collect();
    // Secret: goes into the body only (and from there, once REPORT_OK arrives, is removed).
    let external_report_data = settings
        .external_fields(card)
        .into_iter()
        .map(|f| {
            let v = stored.get(&f).cloned().unwrap_or_default();
            (f, v)
        })
        .collect();
    (report_data, external_report_data)
}

/// Validates every value (all problems at once), fills every expected translation of a chip
/// read (see [`crate::report_fields`]), refuses a chip already reported for another card, stores
/// the values, and moves the card to `readouts_captured` once all required fields are there.
/// Returns the card's status afterwards and its stored readouts. `update_card`: false when the
/// caller sets the card's status itself in the same transaction. `only_expected`: values for
/// nothing the card expects are left out rather than refused.
#[allow(clippy::too_many_arguments)]
fn store_readouts(
    conn: &Connection,
    settings: &ReportSettings,
    card: &CardRow,
    values: &[ReadoutInput],
    source: &str,
    now: &str,
    update_card: bool,
    only_expected: bool,
) -> Result<(CardStatus, Vec<readouts::ReadoutRow>)> {
    if !lifecycle::may_produce(card.status) {
        return Err(WorkflowError::NotAllowed {
            card_id: card.card_id.clone(),
            status: card.status,
            action: "change readouts (spoil the card to redo it)",
        });
    }
    let expected = &card.request.card.expected_report_data_fields;
    let external = settings.external_fields(card);
    let resolved = resolve(&settings.catalogue, expected, &external, values, only_expected).map_err(WorkflowError::InvalidReadouts)?;
    // Chip identities are unique per card; a second card with the same chip, under any name of
    // its kind (MIFARE_UID, a translation in either byte order), is a mixed-up card. Free-form
    // fields (print serials, PIN codes...) carry no such rule.
    for (kind, chip) in &resolved.chips {
        if let Some((field, value, other_card)) = chip_owner(conn, &settings.catalogue, *kind, chip, &card.card_id)? {
            return Err(WorkflowError::DuplicateReadout { field, value, other_card });
        }
    }
    for (field, value) in &resolved.values {
        readouts::upsert(conn, &card.card_id, field, value, source, now)?;
    }
    // A secret removed after REPORT_OK is no value: if NGOC then refuses the report, it must be
    // captured again, never sent as its tombstone.
    let stored: Vec<readouts::ReadoutRow> =
        readouts::for_card(conn, &card.card_id)?.into_iter().filter(|r| !crate::secrets::is_tombstone(&r.value)).collect();
    let complete = settings.required_fields(card).iter().all(|f| stored.iter().any(|r| &r.field == f));
    let stored_now = lifecycle::readouts_stored(card.status, complete);
    let status = stored_now.to;
    if update_card && (status != card.status || !resolved.values.is_empty()) {
        stored_now.write(conn, &card.card_id, now)?;
    }
    Ok((status, stored))
}
