//! Which values a card's readouts become: the one place every source (PC/SC reader, barcode scan,
//! hot folder row, typed value) goes through.
//!
//! - One chip read fills every expected translation. A value of a known field (e.g. `MIFARE_UID`
//!   from a reader, `TRANSLATION_MIFARE_HEX_LSB` typed) is read as the chip's bytes, and every
//!   field the card expects of the same kind is written from those bytes in its own byte order and
//!   format. The source field need not be expected itself (a reader gives `MIFARE_UID`, NGOC asks
//!   for `TRANSLATION_MIFARE_HEX_MSB`/`_LSB`).
//! - One chip is one chip under every name: the duplicate check looks for the bytes under every
//!   known name of the kind.
//! - External report data (e.g. `PIN_CODE`) is free text, secret, and asked for by the request or
//!   by the config per article.

use std::collections::BTreeMap;

use cardbench_protocol::{FieldKind, ReportFieldCatalogue};
use cardbench_store::cards::CardRow;
use cardbench_store::{Connection, readouts};

use crate::error::{ReadoutProblem, Result};
use crate::production::ReadoutInput;

/// What the bureau's configuration adds to what a request says about report fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportSettings {
    /// Known fields: the built-in ones plus the config file's `[report_fields]`.
    pub catalogue: ReportFieldCatalogue,
    /// External report data asked for by article (`[external_report_data.by_article]`), on top of
    /// what the request asks for.
    pub external_by_article: BTreeMap<String, Vec<String>>,
}

impl ReportSettings {
    /// The external (secret) values `card` must report: the request's, then the article's from
    /// the config, each once. A name the request expects as report data stays report data.
    pub fn external_fields(&self, card: &CardRow) -> Vec<String> {
        let request = &card.request.card;
        let mut fields: Vec<String> = Vec::new();
        let configured = self.external_by_article.get(&request.article_id).map(Vec::as_slice).unwrap_or_default();
        for name in request.expected_external_report_data_fields.iter().chain(configured) {
            if !fields.contains(name) && !request.expected_report_data_fields.contains(name) {
                fields.push(name.clone());
            }
        }
        fields
    }

    /// Every field `card` must have before it is produced: report data, then external data.
    pub fn required_fields(&self, card: &CardRow) -> Vec<String> {
        let mut fields = card.request.card.expected_report_data_fields.clone();
        fields.extend(self.external_fields(card));
        fields
    }
}

/// The values to store for one card, and the chips they came from.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    /// Field → normalised value, for expected fields only.
    pub values: Vec<(String, String)>,
    /// Each kind read, with the chip's bytes (most significant first): for the duplicate check.
    pub chips: Vec<(FieldKind, Vec<u8>)>,
}

/// Turns captured inputs into the values to store: validates each (all problems at once), and
/// fills every expected field of a kind from the one value read of that kind. `only_expected`:
/// inputs that concern nothing the card expects are left out instead of refused (a result file
/// has columns for many kinds of card).
pub(crate) fn resolve(
    catalogue: &ReportFieldCatalogue,
    expected: &[String],
    external: &[String],
    inputs: &[ReadoutInput],
    only_expected: bool,
) -> std::result::Result<Resolved, Vec<ReadoutProblem>> {
    let expects_kind = |kind: FieldKind| expected.iter().any(|f| catalogue.spec(f).is_some_and(|s| s.kind == kind));
    let problem = |field: &str, message: String| ReadoutProblem { field: field.to_owned(), message };
    let mut problems = Vec::new();
    let mut resolved = Resolved::default();
    // Per kind: the bytes read and the field they were read from, to name it on a mismatch.
    let mut chips: Vec<(FieldKind, Vec<u8>, &str)> = Vec::new();
    for input in inputs {
        let field = input.field.as_str();
        if external.iter().any(|f| f == field) {
            // Secret: the problem never quotes the value.
            match input.value.trim() {
                "" => problems.push(problem(field, "empty".into())),
                value => resolved.values.push((field.to_owned(), value.to_owned())),
            }
            continue;
        }
        let is_expected = expected.iter().any(|f| f == field);
        match catalogue.spec(field) {
            Some(spec) if is_expected || expects_kind(spec.kind) => match spec.parse(field, &input.value) {
                Ok(chip) => match chips.iter().find(|(kind, _, _)| *kind == spec.kind) {
                    Some((_, first, from)) if *first != chip => {
                        problems.push(problem(field, format!("is not the same chip as {from}")));
                    }
                    Some(_) => {}
                    None => chips.push((spec.kind, chip, field)),
                },
                Err(e) => problems.push(problem(field, e.to_string())),
            },
            None if is_expected => match input.value.trim() {
                "" => problems.push(problem(field, "empty".into())),
                value => resolved.values.push((field.to_owned(), value.to_owned())),
            },
            _ if only_expected => {}
            _ => {
                let all: Vec<&str> = expected.iter().chain(external).map(String::as_str).collect();
                problems.push(problem(field, format!("not expected for this card (expected: {})", all.join(", "))));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    for (kind, chip, _) in chips {
        for field in expected {
            if let Some(spec) = catalogue.spec(field).filter(|s| s.kind == kind) {
                resolved.values.push((field.clone(), spec.render(&chip)));
            }
        }
        resolved.chips.push((kind, chip));
    }
    Ok(resolved)
}

/// Another card already holding this chip under any known name of its kind: (field, value, card).
pub(crate) fn chip_owner(
    conn: &Connection,
    catalogue: &ReportFieldCatalogue,
    kind: FieldKind,
    chip: &[u8],
    except_card: &str,
) -> Result<Option<(String, String, String)>> {
    for (field, spec) in catalogue.fields_of_kind(kind) {
        let value = spec.render(chip);
        if let Some(other) = readouts::other_card_with(conn, field, &value, except_card)? {
            return Ok(Some((field.to_owned(), value, other)));
        }
    }
    Ok(None)
}
