//! Decoding a received body: JSON → checked against its subject's rules → typed message.
//!
//! Every problem is reported with its field path, not just the first, so an ERROR answer tells the
//! other side everything to fix at once.

use serde::de::DeserializeOwned;

use crate::messages::{CardProduced, ErrorMessage, ExternalProductionData, ReportOk, Shipped, ShippedOk};
use crate::problem::Problem;
use crate::received_time::ReceivedZone;
use crate::subject::Subject;

/// How received bodies are read where the contract leaves a choice to the receiver.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// The zone a received time without offset is read in (`[protocol] received_time_zone`).
    pub received_time_zone: ReceivedZone,
    /// A body longer than this is refused without being read (the link's maximum message size,
    /// `[servicebus] max_message_size`; see "Limits" in `docs/protocol/README.md`).
    pub max_body_bytes: usize,
}

/// The default [`DecodeOptions::max_body_bytes`]: Service Bus premium's message size.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { received_time_zone: ReceivedZone::default(), max_body_bytes: DEFAULT_MAX_BODY_BYTES }
    }
}

/// Any of the six messages, typed.
// A request is much larger than the answers, but an `Inbound` lives only while one received
// message is applied: boxing it would cost an allocation per message for no memory saved.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Request(ExternalProductionData),
    CardProduced(CardProduced),
    ReportOk(ReportOk),
    Shipped(Shipped),
    ShippedOk(ShippedOk),
    Error(ErrorMessage),
}

impl Inbound {
    pub fn subject(&self) -> Subject {
        match self {
            Inbound::Request(_) => Subject::RequestSent,
            Inbound::CardProduced(_) => Subject::CardProduced,
            Inbound::ReportOk(_) => Subject::ReportOk,
            Inbound::Shipped(_) => Subject::Shipped,
            Inbound::ShippedOk(_) => Subject::ShippedOk,
            Inbound::Error(_) => Subject::Error,
        }
    }
}

/// Decodes `body` as the message named by `subject`, or returns every problem found. Times
/// without offset are read as UTC; see [`decode_inbound_with`].
pub fn decode_inbound(subject: Subject, body: &[u8]) -> Result<Inbound, Vec<Problem>> {
    decode_inbound_with(subject, body, &DecodeOptions::default())
}

/// [`decode_inbound`] with the receiver's choices (e.g. the zone of offset-less times).
pub fn decode_inbound_with(subject: Subject, body: &[u8], options: &DecodeOptions) -> Result<Inbound, Vec<Problem>> {
    // Before anything else: a body beyond the limit is not read at all (neither decoded nor
    // searched for problems). The receiver may have passed on only its first bytes.
    if body.len() > options.max_body_bytes {
        return Err(vec![Problem::new(
            "",
            format!("the body is larger than {} bytes, the maximum message size; it was not read", options.max_body_bytes),
        )]);
    }
    // Checked apart from JSON so the sender learns which of the two is wrong: the contract says a
    // body is UTF-8 JSON, and a Latin-1 "Öberg" is a different fix from a truncated document.
    let text = std::str::from_utf8(body).map_err(|e| {
        vec![Problem::new("", format!("body is not UTF-8 text (invalid byte at offset {})", e.valid_up_to()))]
    })?;
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| vec![Problem::new("", format!("body is not valid JSON: {e}"))])?;
    // Listed up to a bound, the rest counted: a body with 100,000 bad items gets one small answer.
    let problems =
        crate::problem::listed(crate::validate_schema::violations(subject, &value).chain(semantic_problems(subject, &value)));
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(match subject {
        Subject::RequestSent => {
            let mut request: crate::messages::ExternalProductionData = typed(value)?;
            request.ordered = request.ordered.in_zone(&options.received_time_zone);
            Inbound::Request(request)
        }
        Subject::CardProduced => Inbound::CardProduced(typed(value)?),
        Subject::ReportOk => Inbound::ReportOk(typed(value)?),
        Subject::Shipped => Inbound::Shipped(typed(value)?),
        Subject::ShippedOk => Inbound::ShippedOk(typed(value)?),
        Subject::Error => Inbound::Error(typed(value)?),
    })
}

fn typed<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Vec<Problem>> {
    // The schema check ran first, so this only fails where schema and types disagree: report it
    // rather than panic, and let the contract tests catch the disagreement.
    serde_json::from_value(value).map_err(|e| vec![Problem::new("", e.to_string())])
}

/// Rules a JSON Schema cannot state well.
fn semantic_problems(subject: Subject, value: &serde_json::Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    if subject == Subject::RequestSent
        // `get` twice rather than `pointer`: parsing the pointer for every body costs more than
        // the check itself.
        && let Some(fields) = value.get("card").and_then(|c| c.get("expectedReportDataFields")).and_then(|v| v.as_array())
    {
        let mut seen = std::collections::HashSet::new();
        for (i, f) in fields.iter().enumerate() {
            if let Some(name) = f.as_str()
                && !seen.insert(name)
            {
                problems.push(Problem::new(format!("card.expectedReportDataFields[{i}]"), format!("{} is listed twice", short(name))));
            }
        }
    }
    if subject == Subject::RequestSent {
        problems.extend(external_field_problems(value));
    }
    problems
}

/// An external report value is stored beside the report fields under its name: a name asked
/// for twice, or in both lists, would be two values in one place.
fn external_field_problems(value: &serde_json::Value) -> Vec<Problem> {
    let card = value.get("card");
    let list = |key: &str| card.and_then(|c| c.get(key)).and_then(|v| v.as_array()).map(Vec::as_slice).unwrap_or_default();
    let report: std::collections::HashSet<&str> = list("expectedReportDataFields").iter().filter_map(|f| f.as_str()).collect();
    let mut seen = std::collections::HashSet::new();
    let mut problems = Vec::new();
    for (i, name) in list("expectedExternalReportDataFields").iter().enumerate().filter_map(|(i, f)| Some((i, f.as_str()?))) {
        let path = format!("card.expectedExternalReportDataFields[{i}]");
        if !seen.insert(name) {
            problems.push(Problem::new(path, format!("{} is listed twice", short(name))));
        } else if report.contains(name) {
            problems.push(Problem::new(path, format!("{} is also in expectedReportDataFields", short(name))));
        }
    }
    problems
}

/// A field name from the body, quoted in a problem: cut short (names have a schema bound, but
/// these rules run on bodies the schema refused too).
fn short(name: &str) -> std::borrow::Cow<'_, str> {
    crate::problem::cut_short(name, crate::problem::MAX_QUOTED_BYTES)
}
