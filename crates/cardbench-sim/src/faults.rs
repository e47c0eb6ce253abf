//! Schema violations for the invalid-request fault: each is a mistake a real publisher could
//! make, and each must make Cardbench's validation answer with ERROR INVALID_MESSAGE.

use rand::Rng;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Violation {
    MissingCity,
    BadCountryCode,
    EmptyExpectedField,
    DuplicateExpectedField,
    MissingCardId,
    BadOrderedTime,
    NoRecipientNorCompany,
    ZeroAccessoryQuantity,
}

impl Violation {
    const ALL: [Violation; 8] = [
        Violation::MissingCity,
        Violation::BadCountryCode,
        Violation::EmptyExpectedField,
        Violation::DuplicateExpectedField,
        Violation::MissingCardId,
        Violation::BadOrderedTime,
        Violation::NoRecipientNorCompany,
        Violation::ZeroAccessoryQuantity,
    ];

    pub(crate) fn pick(rng: &mut impl Rng) -> Violation {
        Violation::ALL[rng.random_range(0..Violation::ALL.len())]
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Violation::MissingCity => "missing address.city",
            Violation::BadCountryCode => "bad address.countryCode",
            Violation::EmptyExpectedField => "empty expected field name",
            Violation::DuplicateExpectedField => "expected field listed twice",
            Violation::MissingCardId => "missing card.cardId",
            Violation::BadOrderedTime => "ordered is not a date-time",
            Violation::NoRecipientNorCompany => "neither recipient nor companyName",
            Violation::ZeroAccessoryQuantity => "accessory quantity 0",
        }
    }

    /// Breaks `body` (a valid request as JSON) in this way.
    pub(crate) fn apply(self, body: &mut Value) {
        match self {
            Violation::MissingCity => remove(body, "address", "city"),
            Violation::BadCountryCode => set(body, "address", "countryCode", json!("Sverige")),
            Violation::EmptyExpectedField => set(body, "card", "expectedReportDataFields", json!(["MIFARE_UID", ""])),
            Violation::DuplicateExpectedField => set(body, "card", "expectedReportDataFields", json!(["MIFARE_UID", "MIFARE_UID"])),
            Violation::MissingCardId => remove(body, "card", "cardId"),
            Violation::BadOrderedTime => {
                if let Some(o) = body.as_object_mut() {
                    o.insert("ordered".into(), json!("23.11.2026 08:30"));
                }
            }
            Violation::NoRecipientNorCompany => {
                remove(body, "address", "recipient");
                remove(body, "address", "companyName");
            }
            Violation::ZeroAccessoryQuantity => {
                if let Some(o) = body.as_object_mut() {
                    o.insert("accessories".into(), json!([{ "articleId": "ART-LANYARD-BLUE", "accessoryId": "LANYARD", "quantity": 0 }]));
                }
            }
        }
    }
}

fn remove(body: &mut Value, object: &str, field: &str) {
    if let Some(o) = body.get_mut(object).and_then(Value::as_object_mut) {
        o.remove(field);
    }
}

fn set(body: &mut Value, object: &str, field: &str, value: Value) {
    if let Some(o) = body.get_mut(object).and_then(Value::as_object_mut) {
        o.insert(field.into(), value);
    }
}
