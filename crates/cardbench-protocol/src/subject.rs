//! Message types. NGOC puts the type in the Service Bus message Subject (AMQP `subject`).

use serde::{Deserialize, Serialize};

/// Who sends a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// NGOC → production partner (our inbound queue).
    FromNgoc,
    /// Production partner → NGOC (our outbound queue).
    ToNgoc,
    /// Either side may send it (ERROR answers a bad message from the other side).
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Subject {
    #[serde(rename = "EXTERNAL_PRODUCTION_REQUEST_SENT")]
    RequestSent,
    #[serde(rename = "EXTERNAL_PRODUCTION_CARD_PRODUCED")]
    CardProduced,
    #[serde(rename = "EXTERNAL_PRODUCTION_REPORT_OK")]
    ReportOk,
    #[serde(rename = "EXTERNAL_PRODUCTION_SHIPPED")]
    Shipped,
    #[serde(rename = "EXTERNAL_PRODUCTION_SHIPPED_OK")]
    ShippedOk,
    #[serde(rename = "EXTERNAL_PRODUCTION_ERROR")]
    Error,
}

impl Subject {
    pub const ALL: [Subject; 6] = [
        Subject::RequestSent,
        Subject::CardProduced,
        Subject::ReportOk,
        Subject::Shipped,
        Subject::ShippedOk,
        Subject::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Subject::RequestSent => "EXTERNAL_PRODUCTION_REQUEST_SENT",
            Subject::CardProduced => "EXTERNAL_PRODUCTION_CARD_PRODUCED",
            Subject::ReportOk => "EXTERNAL_PRODUCTION_REPORT_OK",
            Subject::Shipped => "EXTERNAL_PRODUCTION_SHIPPED",
            Subject::ShippedOk => "EXTERNAL_PRODUCTION_SHIPPED_OK",
            Subject::Error => "EXTERNAL_PRODUCTION_ERROR",
        }
    }

    /// Exact match: subjects are an identifier, not free text.
    pub fn parse(text: &str) -> Option<Subject> {
        Subject::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn direction(self) -> Direction {
        match self {
            Subject::RequestSent | Subject::ReportOk | Subject::ShippedOk => Direction::FromNgoc,
            Subject::CardProduced | Subject::Shipped => Direction::ToNgoc,
            Subject::Error => Direction::Both,
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_parses_back_from_its_text() {
        for s in Subject::ALL {
            assert_eq!(Subject::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).expect("serialise");
            assert_eq!(json, format!("\"{}\"", s.as_str()), "serde and as_str must agree");
        }
        assert_eq!(Subject::parse("external_production_request_sent"), None);
    }
}
