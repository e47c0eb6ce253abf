//! The JSON Schemas of `docs/protocol/schemas/`, embedded and compiled once.
//!
//! Received bodies are checked against the schema of their subject; the schema is the contract, so
//! the code does not restate its rules. Errors come back with JSON pointers, turned here into the
//! dotted paths operators and the other side read (`card.expectedReportDataFields[0]`).

use std::sync::OnceLock;

use jsonschema::{Retrieve, Uri, Validator};

use crate::problem::Problem;
use crate::received_time::{NotAReceivedTime, RECEIVED_TIME_FORMAT, is_received_time};
use crate::subject::Subject;

const BASE: &str = "https://cardbench.example/protocol/";

/// (file name, contents) of every schema, so `$ref`s between them resolve offline.
pub const SCHEMAS: [(&str, &str); 7] = [
    ("external-production-data.schema.json", include_str!("../../../docs/protocol/schemas/external-production-data.schema.json")),
    ("accessory.schema.json", include_str!("../../../docs/protocol/schemas/accessory.schema.json")),
    ("card-produced.schema.json", include_str!("../../../docs/protocol/schemas/card-produced.schema.json")),
    ("report-ok.schema.json", include_str!("../../../docs/protocol/schemas/report-ok.schema.json")),
    ("shipped.schema.json", include_str!("../../../docs/protocol/schemas/shipped.schema.json")),
    ("shipped-ok.schema.json", include_str!("../../../docs/protocol/schemas/shipped-ok.schema.json")),
    ("error.schema.json", include_str!("../../../docs/protocol/schemas/error.schema.json")),
];

/// The schema file that describes the body of `subject`.
pub fn schema_file(subject: Subject) -> &'static str {
    match subject {
        Subject::RequestSent => "external-production-data.schema.json",
        Subject::CardProduced => "card-produced.schema.json",
        Subject::ReportOk => "report-ok.schema.json",
        Subject::Shipped => "shipped.schema.json",
        Subject::ShippedOk => "shipped-ok.schema.json",
        Subject::Error => "error.schema.json",
    }
}

fn schema_json(file: &str) -> serde_json::Value {
    let text = SCHEMAS
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("schema {file} is not embedded"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("embedded schema {file} is not JSON: {e}"))
}

/// Resolves `$ref`s to our own schemas from the embedded copies; refuses anything else, so
/// validation never touches the network.
struct EmbeddedSchemas;

impl Retrieve for EmbeddedSchemas {
    fn retrieve(&self, uri: &Uri<String>) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        let wanted = uri.as_str();
        SCHEMAS
            .iter()
            .find(|(name, _)| wanted.strip_prefix(BASE) == Some(*name))
            .map(|(_, text)| serde_json::from_str(text).map_err(|e| Box::new(e) as _))
            .unwrap_or_else(|| Err(format!("schema {wanted} is not one of Cardbench's embedded schemas").into()))
    }
}

fn compile(subject: Subject) -> Validator {
    let options = jsonschema::options()
        .should_validate_formats(true)
        .with_format(RECEIVED_TIME_FORMAT, is_received_time)
        .with_retriever(EmbeddedSchemas);
    // The embedded schemas are part of the build; a broken one is a programming error that the
    // contract tests catch before release, so panicking here is right.
    options
        .build(&schema_json(schema_file(subject)))
        .unwrap_or_else(|e| panic!("schema for {subject} does not compile: {e}"))
}

fn validator(subject: Subject) -> &'static Validator {
    static VALIDATORS: [OnceLock<Validator>; 6] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let index = Subject::ALL.iter().position(|s| *s == subject).unwrap_or(0);
    VALIDATORS[index].get_or_init(|| compile(subject))
}

/// The schema violations of `value` as the body of `subject`: the first
/// [`crate::problem::MAX_PROBLEMS_LISTED`], then a count of the rest (see [`crate::problem::listed`]).
pub fn check(subject: Subject, value: &serde_json::Value) -> Vec<Problem> {
    crate::problem::listed(violations(subject, value))
}

/// Every schema violation of `value`, one at a time: a body with 100,000 bad items is walked, not
/// collected.
pub(crate) fn violations<'v>(subject: Subject, value: &'v serde_json::Value) -> Box<dyn Iterator<Item = Problem> + 'v> {
    let validator = validator(subject);
    // Almost every body is valid: `is_valid` stops early and builds no errors, which is several
    // times cheaper than walking `iter_errors` to its empty end.
    if validator.is_valid(value) {
        return Box::new(std::iter::empty());
    }
    Box::new(validator.iter_errors(value).map(|e| readable(&e)))
}

/// Turns one jsonschema error into a [`Problem`] an operator or NGOC's support can act on.
///
/// The library's own text quotes the offending value (`"se" does not match "^[A-Z]{2}$"`, or a
/// whole address for an `anyOf`): that is cardholder data, which must not travel in ERROR bodies
/// or logs, and for `anyOf` it does not say what is missing. So each kind gets its own wording, and
/// a schema may state the message of a combinator with `x-error-message` next to it (the contract
/// keeps its own explanations; see `docs/protocol/README.md`).
fn readable(e: &jsonschema::ValidationError<'_>) -> Problem {
    use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};

    let mut path = pointer_to_path(e.instance_path().as_str());
    let message = match e.kind() {
        Kind::Required { property } => {
            // Point at the missing field itself, so `address.city` rather than `address`.
            let name = property.as_str().unwrap_or("?");
            push_field(&mut path, name);
            "is required".to_owned()
        }
        Kind::AnyOf { .. } | Kind::OneOfNotValid { .. } | Kind::OneOfMultipleValid { .. } => {
            custom_message(e).unwrap_or_else(|| "does not match any of the allowed forms".to_owned())
        }
        Kind::Type { kind: TypeKind::Single(t) } => format!("must be {}", with_article(&t.to_string())),
        Kind::Type { kind: TypeKind::Multiple(_) } => {
            let text = e.masked().to_string();
            format!("must be of type {}", text.trim_start_matches("value is not of types "))
        }
        Kind::MinLength { limit: 1 } => "must not be empty".to_owned(),
        Kind::MinLength { limit } => format!("must be at least {limit} characters long"),
        Kind::MaxLength { limit } => format!("must be at most {limit} characters long"),
        Kind::Pattern { pattern } => format!("does not have the required form (pattern {pattern})"),
        Kind::Format { format } if format == "date-time" => {
            "must be an RFC 3339 date-time with offset, e.g. 2026-11-23T09:30:00Z".to_owned()
        }
        Kind::Format { format } if format == RECEIVED_TIME_FORMAT => NotAReceivedTime.to_string(),
        Kind::Format { format } => format!("must be a valid {format}"),
        Kind::Minimum { limit } => format!("must be at least {limit}"),
        Kind::Maximum { limit } => format!("must be at most {limit}"),
        Kind::MinItems { limit: 1 } => "must not be empty".to_owned(),
        Kind::MinItems { limit } => format!("must have at least {limit} items"),
        Kind::MaxItems { limit } => format!("must have at most {limit} items"),
        Kind::UniqueItems => "lists the same value more than once".to_owned(),
        // Property names are ours or NGOC's field names, never cardholder data.
        Kind::AdditionalProperties { unexpected } | Kind::UnevaluatedProperties { unexpected } => {
            format!("unknown field(s) not allowed here: {}", unexpected.join(", "))
        }
        // Anything else: the library's text with the value masked.
        _ => e.masked().to_string(),
    };
    Problem::new(path, message)
}

fn push_field(path: &mut String, name: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
}

fn with_article(type_name: &str) -> String {
    match type_name {
        "object" | "array" | "integer" => format!("an {type_name}"),
        "null" => "null".to_owned(),
        other => format!("a {other}"),
    }
}

/// The `x-error-message` written in the schema next to the failed keyword, if any.
fn custom_message(e: &jsonschema::ValidationError<'_>) -> Option<String> {
    // e.g. `https://cardbench.example/protocol/external-production-data.schema.json#/$defs/address/anyOf`
    let location = e.absolute_keyword_location()?;
    let (file_uri, fragment) = location.as_str().split_once('#')?;
    let file = file_uri.strip_prefix(BASE)?;
    let (_, text) = SCHEMAS.iter().find(|(name, _)| *name == file)?;
    let schema: serde_json::Value = serde_json::from_str(text).ok()?;
    // The keyword's parent object is the schema that carries the message.
    let parent = fragment.rsplit_once('/').map_or("", |(parent, _)| parent);
    schema.pointer(parent)?.get("x-error-message")?.as_str().map(str::to_owned)
}

/// `/card/expectedReportDataFields/0` → `card.expectedReportDataFields[0]`.
pub fn pointer_to_path(pointer: &str) -> String {
    let mut path = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{token}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&token);
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_dotted_paths() {
        assert_eq!(pointer_to_path(""), "");
        assert_eq!(pointer_to_path("/card/expectedReportDataFields/0"), "card.expectedReportDataFields[0]");
        assert_eq!(pointer_to_path("/address/countryCode"), "address.countryCode");
    }
}
