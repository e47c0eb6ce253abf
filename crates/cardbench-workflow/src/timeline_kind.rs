//! What a card's timeline calls a message of each type, matched on the typed [`Subject`]
//! (exhaustively: a new message type does not compile until it is given its kind here). The
//! webview labels each kind (`ui/src/lib/format.ts`, `TIMELINE_LABEL`).

use cardbench_protocol::Subject;

/// A message of `subject` received from NGOC (`None`: no subject, or one we do not know).
pub fn received(subject: Option<Subject>) -> &'static str {
    match subject {
        Some(Subject::RequestSent) => "received",
        Some(Subject::ReportOk) => "report_ok",
        Some(Subject::ShippedOk) => "shipped_ok",
        Some(Subject::Error) => "error",
        // Types only we send: one received is shown as a plain message.
        Some(Subject::CardProduced | Subject::Shipped) | None => "message",
    }
}

/// A message of `subject` we queued for NGOC (`None`: a subject we do not know).
pub fn sent(subject: Option<Subject>) -> &'static str {
    match subject {
        Some(Subject::CardProduced) => "produced_queued",
        Some(Subject::Error) => "error_sent",
        // SHIPPED is shown by its parcel; the others only NGOC sends.
        Some(Subject::Shipped | Subject::RequestSent | Subject::ReportOk | Subject::ShippedOk) | None => "sent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_has_its_kind_both_ways() {
        let got: Vec<_> = Subject::ALL.into_iter().map(|s| (s, received(Some(s)), sent(Some(s)))).collect();
        assert_eq!(
            got,
            vec![
                (Subject::RequestSent, "received", "sent"),
                (Subject::CardProduced, "message", "produced_queued"),
                (Subject::ReportOk, "report_ok", "sent"),
                (Subject::Shipped, "message", "sent"),
                (Subject::ShippedOk, "shipped_ok", "sent"),
                (Subject::Error, "error", "error_sent"),
            ]
        );
        assert_eq!((received(None), sent(None)), ("message", "sent"));
    }
}
