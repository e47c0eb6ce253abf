//! Which of our messages an answer (REPORT_OK, SHIPPED_OK, ERROR) answers.
//!
//! The contract says an answer carries the answered message-id twice: as the AMQP
//! `correlation-id` property and as `correlationId` in the body. NGOC's samples do not always
//! show both, so either one is enough; when both are present they must agree, because acting on
//! one of two different ids would be a guess.

use cardbench_protocol::Problem;

/// What an answer says it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answered {
    /// The messageId of the answered message, from the body, the property or both (equal).
    Id(String),
    /// Neither the body nor the property names it.
    Neither,
    /// Body and property name different messages.
    Conflict { body: String, property: String },
}

/// Reads the answered messageId from the body's `correlationId` and the AMQP `correlation-id`
/// property (blank counts as absent).
pub(crate) fn answered(body: Option<&str>, property: Option<&str>) -> Answered {
    let present = |id: Option<&str>| id.map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned);
    match (present(body), present(property)) {
        (Some(body), Some(property)) if body != property => Answered::Conflict { body, property },
        (Some(id), _) | (None, Some(id)) => Answered::Id(id),
        (None, None) => Answered::Neither,
    }
}

/// The problem an ERROR answer lists for body and property naming different messages. Both ids
/// are message-ids, never cardholder data.
pub(crate) fn conflict_problem(body: &str, property: &str) -> Problem {
    Problem::new(
        "correlationId",
        format!(
            "{} in the body differs from the AMQP correlation-id {}; which message is answered is unclear",
            crate::ingest::quoted(body),
            crate::ingest::quoted(property)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_place_is_enough_and_two_different_ids_conflict() {
        assert_eq!(answered(Some("m-1"), None), Answered::Id("m-1".into()));
        assert_eq!(answered(None, Some("m-1")), Answered::Id("m-1".into()));
        assert_eq!(answered(Some("m-1"), Some("m-1")), Answered::Id("m-1".into()));
        assert_eq!(answered(Some(" "), Some("")), Answered::Neither);
        assert_eq!(answered(None, None), Answered::Neither);
        assert_eq!(
            answered(Some("m-1"), Some("m-2")),
            Answered::Conflict { body: "m-1".into(), property: "m-2".into() }
        );
    }
}
