//! The topics of the event log: what a subscriber picks from.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Topic {
    /// A production request was taken into the worklist.
    RequestReceived,
    /// A request was refused: invalid, or refused by the bureau (answered with ERROR).
    RequestRefused,
    /// CARD_PRODUCED was queued for NGOC.
    CardProduced,
    /// NGOC accepted the card's report.
    ReportOk,
    /// NGOC answered the card's report with ERROR.
    CardError,
    /// The card left in a parcel (SHIPPED queued).
    Shipped,
    /// NGOC confirmed the card's parcel.
    ShippedOk,
    /// NGOC answered the card's parcel with ERROR.
    ShipmentError,
}

impl Topic {
    pub const ALL: [Topic; 8] = [
        Topic::RequestReceived,
        Topic::RequestRefused,
        Topic::CardProduced,
        Topic::ReportOk,
        Topic::CardError,
        Topic::Shipped,
        Topic::ShippedOk,
        Topic::ShipmentError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::RequestReceived => "REQUEST_RECEIVED",
            Topic::RequestRefused => "REQUEST_REFUSED",
            Topic::CardProduced => "CARD_PRODUCED",
            Topic::ReportOk => "REPORT_OK",
            Topic::CardError => "CARD_ERROR",
            Topic::Shipped => "SHIPPED",
            Topic::ShippedOk => "SHIPPED_OK",
            Topic::ShipmentError => "SHIPMENT_ERROR",
        }
    }

    /// Reads a topic name as written in the envelope (case-insensitive, so `card_produced` from a
    /// command line is taken too).
    pub fn parse(text: &str) -> Option<Topic> {
        let text = text.trim();
        Topic::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(text))
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Topic;

    #[test]
    fn names_read_back_and_match_serde() {
        for t in Topic::ALL {
            assert_eq!(Topic::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_string(&t).expect("json"), format!("\"{}\"", t.as_str()));
        }
        assert_eq!(Topic::parse("card_produced"), Some(Topic::CardProduced));
        assert_eq!(Topic::parse("CARD_MADE"), None);
    }
}
