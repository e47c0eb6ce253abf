//! Error codes carried by EXTERNAL_PRODUCTION_ERROR. NGOC publishes none, so these are ours and are
//! documented in `docs/protocol/`. A code we do not know is kept as [`ErrorCode::Other`], never
//! rejected: the other side may add codes before we do.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The body is not JSON, or does not match the schema of its subject.
    InvalidMessage,
    /// The subject is missing or not one of the six.
    UnknownSubject,
    /// The message has no messageId, so it cannot be deduplicated or answered by correlation.
    MissingMessageId,
    /// The message names a cardId the receiver does not know.
    UnknownCard,
    /// The message names a shipmentId the receiver does not know.
    UnknownShipment,
    /// The answered message (correlationId) is not one the receiver sent.
    UnknownCorrelation,
    /// A request reuses a cardId with different content.
    CardConflict,
    /// CARD_PRODUCED lacks an expected report field, or carries one not expected.
    ReportDataMismatch,
    /// A report field value has the wrong format.
    InvalidReportData,
    /// SHIPPED lists a card that has no REPORT_OK.
    CardNotReported,
    /// SHIPPED lists a card or accessory already shipped.
    AlreadyShipped,
    /// SHIPPED lists a card or accessory that does not belong to the shipment.
    NotInShipment,
    /// The receiver failed for a reason of its own; the sender may retry.
    InternalError,
    /// A messageId already received came again with another body.
    MessageIdReused,
    // The partner's refusals of a request it cannot produce (answering REQUEST_SENT; the operator
    // picks one, with details in words).
    /// The request's articleId is not an article the bureau makes.
    UnknownArticle,
    /// The card data does not fit the article's card layout (too long, characters it cannot print).
    CardLayoutMismatch,
    /// The photo cannot be printed (missing, unreadable, too small, not a face).
    PhotoUnusable,
    /// Any other reason the request cannot be produced; `details` says which.
    RequestRefused,
    /// A code this build does not know, kept verbatim.
    Other(String),
}

impl ErrorCode {
    pub const KNOWN: [ErrorCode; 18] = [
        ErrorCode::InvalidMessage,
        ErrorCode::UnknownSubject,
        ErrorCode::MissingMessageId,
        ErrorCode::UnknownCard,
        ErrorCode::UnknownShipment,
        ErrorCode::UnknownCorrelation,
        ErrorCode::CardConflict,
        ErrorCode::ReportDataMismatch,
        ErrorCode::InvalidReportData,
        ErrorCode::CardNotReported,
        ErrorCode::AlreadyShipped,
        ErrorCode::NotInShipment,
        ErrorCode::InternalError,
        ErrorCode::MessageIdReused,
        ErrorCode::UnknownArticle,
        ErrorCode::CardLayoutMismatch,
        ErrorCode::PhotoUnusable,
        ErrorCode::RequestRefused,
    ];

    /// The codes an operator may refuse a request with, in the order a picker shows them.
    pub const REFUSALS: [ErrorCode; 4] =
        [ErrorCode::UnknownArticle, ErrorCode::CardLayoutMismatch, ErrorCode::PhotoUnusable, ErrorCode::RequestRefused];

    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::InvalidMessage => "INVALID_MESSAGE",
            ErrorCode::UnknownSubject => "UNKNOWN_SUBJECT",
            ErrorCode::MissingMessageId => "MISSING_MESSAGE_ID",
            ErrorCode::UnknownCard => "UNKNOWN_CARD",
            ErrorCode::UnknownShipment => "UNKNOWN_SHIPMENT",
            ErrorCode::UnknownCorrelation => "UNKNOWN_CORRELATION",
            ErrorCode::CardConflict => "CARD_CONFLICT",
            ErrorCode::ReportDataMismatch => "REPORT_DATA_MISMATCH",
            ErrorCode::InvalidReportData => "INVALID_REPORT_DATA",
            ErrorCode::CardNotReported => "CARD_NOT_REPORTED",
            ErrorCode::AlreadyShipped => "ALREADY_SHIPPED",
            ErrorCode::NotInShipment => "NOT_IN_SHIPMENT",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::MessageIdReused => "MESSAGE_ID_REUSED",
            ErrorCode::UnknownArticle => "UNKNOWN_ARTICLE",
            ErrorCode::CardLayoutMismatch => "CARD_LAYOUT_MISMATCH",
            ErrorCode::PhotoUnusable => "PHOTO_UNUSABLE",
            ErrorCode::RequestRefused => "REQUEST_REFUSED",
            ErrorCode::Other(code) => code,
        }
    }

    pub fn parse(text: &str) -> ErrorCode {
        ErrorCode::KNOWN
            .into_iter()
            .find(|c| c.as_str() == text)
            .unwrap_or_else(|| ErrorCode::Other(text.to_owned()))
    }

    /// A code an operator may refuse a request with (see [`ErrorCode::REFUSALS`]).
    pub fn is_refusal(&self) -> bool {
        ErrorCode::REFUSALS.contains(self)
    }

    /// What an operator should do next when NGOC answers our message with this code.
    pub fn operator_hint(&self) -> &'static str {
        match self {
            ErrorCode::ReportDataMismatch | ErrorCode::InvalidReportData => {
                "check the readouts against the chip, correct them and produce again"
            }
            ErrorCode::CardNotReported => "wait for REPORT_OK for every card, then ship again",
            ErrorCode::AlreadyShipped | ErrorCode::NotInShipment => {
                "check the parcel contents against the shipment, then ship the corrected parcel"
            }
            ErrorCode::UnknownCard | ErrorCode::UnknownShipment => {
                "NGOC does not know this card or shipment: call NGOC support"
            }
            ErrorCode::InternalError => "NGOC failed on its side: resend later",
            ErrorCode::MessageIdReused => "NGOC saw a messageId twice with different bodies: resend the message (a new messageId is made)",
            _ => "inspect the message in the queue inspector and call NGOC support",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(ErrorCode::parse(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_round_trip_and_unknown_codes_are_kept() {
        for code in ErrorCode::KNOWN {
            assert_eq!(ErrorCode::parse(code.as_str()), code);
        }
        let unknown: ErrorCode = serde_json::from_str("\"NGOC_NEW_CODE\"").expect("any string is a code");
        assert_eq!(unknown, ErrorCode::Other("NGOC_NEW_CODE".into()));
        assert_eq!(serde_json::to_string(&unknown).expect("serialise"), "\"NGOC_NEW_CODE\"");
    }
}
