//! What a barcode scan means. A keyboard-wedge scanner types text and Enter; the desktop app hands
//! that text here and acts on the answer: select a card, open a shipment, or fill a readout of
//! the card in hand.
//!
//! Order of the rules, and why:
//! 1. `FIELD=VALUE` — an explicit label (some encoders print it that way) wins over guessing.
//! 2. An existing cardId, then an existing shipmentId — exact store hits are unambiguous, and a
//!    card label is the most common scan at the station.
//! 3. A readout of the card in hand — its missing fields with a known format first (a UID must
//!    parse as 4/7/10 bytes of hex, which random text rarely does); a free-form field only when
//!    it is the one field still missing, so a stray scan never lands in a print serial.
//!
//! A UID read into one of NGOC's translations (e.g. `TRANSLATION_MIFARE_HEX_LSB`) is read in that
//! field's byte order and format; applying it fills every other translation the card expects
//! (`cardbench_workflow::report_fields`). A labelled chip value (`MIFARE_UID=…`) is taken for a
//! card that expects only translations of it.

use cardbench_protocol::{NormalisedReadout, ReportFieldCatalogue};
use cardbench_store::{Connection, cards, readouts, shipments};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ScanMeaning {
    /// Select this card.
    Card { card_id: String },
    /// Open this shipment.
    Shipment { shipment_id: String },
    /// Fill `field` of the card in hand with this value.
    Readout { card_id: String, field: String, readout: NormalisedReadout },
    /// Meant as a readout of the card in hand but not in the field's format.
    BadReadout { card_id: String, field: String, reason: String },
    /// Nothing we know.
    Unknown { reason: String },
}

/// Interprets one scan by the built-in report fields. `card_in_hand`: the card selected at the
/// station, if any.
pub fn interpret_scan(conn: &Connection, raw: &str, card_in_hand: Option<&str>) -> Result<ScanMeaning> {
    interpret_scan_with(conn, &ReportFieldCatalogue::built_in(), raw, card_in_hand)
}

/// [`interpret_scan`] with the configuration's report fields.
pub fn interpret_scan_with(conn: &Connection, catalogue: &ReportFieldCatalogue, raw: &str, card_in_hand: Option<&str>) -> Result<ScanMeaning> {
    let is_known_field = |field: &str| catalogue.is_known(field);
    // Scanners end with CR, LF or Tab depending on their setup; some prefix a symbology id.
    let text = raw.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    if text.is_empty() {
        return Ok(ScanMeaning::Unknown { reason: "empty scan".into() });
    }

    let hand = match card_in_hand {
        Some(id) => cards::get(conn, id)?,
        None => None,
    };

    if let Some((label, value)) = text.split_once('=') {
        let label = label.trim();
        if let Some(card) = &hand
            && fills_expected(catalogue, &card.request.card.expected_report_data_fields, label)
        {
            return Ok(readout_or_bad(catalogue, &card.card_id, label, value));
        }
        if is_known_field(label) {
            return Ok(match &hand {
                Some(card) => ScanMeaning::BadReadout {
                    card_id: card.card_id.clone(),
                    field: label.to_owned(),
                    reason: format!("card {} does not expect {label}", card.card_id),
                },
                None => ScanMeaning::Unknown { reason: format!("a {label} was scanned but no card is selected") },
            });
        }
    }

    for candidate in [text.to_owned(), text.to_uppercase()] {
        if cards::get(conn, &candidate)?.is_some() {
            return Ok(ScanMeaning::Card { card_id: candidate });
        }
        if shipments::get(conn, &candidate)?.is_some() {
            return Ok(ScanMeaning::Shipment { shipment_id: candidate });
        }
    }

    let Some(card) = hand else {
        return Ok(ScanMeaning::Unknown { reason: "no such card or shipment, and no card is selected".into() });
    };
    let stored = readouts::for_card(conn, &card.card_id)?;
    let expected = &card.request.card.expected_report_data_fields;
    let missing: Vec<&String> = expected.iter().filter(|f| !stored.iter().any(|r| &r.field == *f)).collect();
    // Known formats: missing first, then already captured ones (a re-scan corrects a value).
    let known = missing.iter().copied().chain(expected.iter().filter(|f| !missing.contains(f))).filter(|f| is_known_field(f));
    let mut first_error = None;
    for field in known {
        match catalogue.normalise(field, text) {
            Ok(readout) => return Ok(ScanMeaning::Readout { card_id: card.card_id.clone(), field: field.clone(), readout }),
            Err(e) => {
                first_error.get_or_insert_with(|| (field.clone(), e.to_string()));
            }
        }
    }
    if let [only] = missing.as_slice()
        && !is_known_field(only)
    {
        return Ok(readout_or_bad(catalogue, &card.card_id, only, text));
    }
    Ok(match first_error {
        Some((field, reason)) => ScanMeaning::BadReadout { card_id: card.card_id.clone(), field, reason },
        None => ScanMeaning::Unknown { reason: format!("not a card, a shipment or a readout card {} expects", card.card_id) },
    })
}

/// Whether a value labelled `label` fills a field of `expected`: the field itself, or a known
/// field of the same kind (a chip's UID fills each of its translations).
fn fills_expected(catalogue: &ReportFieldCatalogue, expected: &[String], label: &str) -> bool {
    expected.iter().any(|f| f == label)
        || catalogue.spec(label).is_some_and(|s| expected.iter().any(|f| catalogue.spec(f).is_some_and(|e| e.kind == s.kind)))
}

fn readout_or_bad(catalogue: &ReportFieldCatalogue, card_id: &str, field: &str, value: &str) -> ScanMeaning {
    match catalogue.normalise(field, value) {
        Ok(readout) => ScanMeaning::Readout { card_id: card_id.to_owned(), field: field.to_owned(), readout },
        Err(e) => ScanMeaning::BadReadout { card_id: card_id.to_owned(), field: field.to_owned(), reason: e.to_string() },
    }
}
