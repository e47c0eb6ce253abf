//! The part of receiving that needs no store: decoding bodies (UTF-8, JSON, schema, the rules a
//! schema cannot state, the typed message) and serialising a valid request as the worklist keeps
//! it. The daemon runs it on one core while the previous batch holds the store's single writer on
//! the other; only the store work waits for the writer.

use cardbench_protocol::{DecodeOptions, Direction, Inbound, Problem, Subject, decode_inbound_with};
use cardbench_store::cards;
use cardbench_store::inbox::Envelope;

use crate::Workflow;

/// The bodies of a batch decoded ahead of its transaction, one entry per message in batch order
/// (see [`Workflow::decode`]).
pub struct DecodedBatch {
    entries: Vec<DecodedBody>,
}

struct DecodedBody {
    /// Where the decoded bytes were (address, length): a body is used only for the very bytes it
    /// was decoded from, so a batch passed with the wrong envelopes is decoded again, not trusted.
    source: (usize, usize),
    /// None where the body is not decoded at all (no messageId, unknown subject, a subject we only
    /// send): the decision then does not depend on the body.
    decoded: Option<Decoded>,
}

/// One body, decoded.
pub(crate) struct Decoded {
    /// The typed message, or every problem found.
    pub(crate) message: Result<Inbound, Vec<Problem>>,
    /// For a valid request: its `request_json` for the worklist, made here rather than inside the
    /// transaction. None: made when the card is stored.
    pub(crate) request_json: Option<String>,
}

fn source_of(body: &[u8]) -> (usize, usize) {
    (body.as_ptr() as usize, body.len())
}

impl DecodedBatch {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Per message of `batch`: its decoded body when decoded from those bytes, else decoded now.
    pub(crate) fn into_bodies<'b>(
        self,
        batch: &'b [Envelope<'b>],
        options: &'b DecodeOptions,
    ) -> impl Iterator<Item = Option<Decoded>> + 'b {
        let mut entries = self.entries.into_iter();
        batch.iter().map(move |envelope| match entries.next() {
            Some(entry) if entry.source == source_of(envelope.body) => entry.decoded,
            _ => decode_one(envelope, options),
        })
    }
}

/// The subject a body is decoded as, or None when the message is decided without its body
/// (the checks `ingest` makes before it looks at a body).
fn decodable_subject(envelope: &Envelope<'_>) -> Option<Subject> {
    envelope.message_id.filter(|id| !id.trim().is_empty())?;
    envelope.subject.and_then(Subject::parse).filter(|s| s.direction() != Direction::ToNgoc)
}

pub(crate) fn decode_one(envelope: &Envelope<'_>, options: &DecodeOptions) -> Option<Decoded> {
    decodable_subject(envelope).map(|subject| decode(subject, envelope.body, options))
}

pub(crate) fn decode(subject: Subject, body: &[u8], options: &DecodeOptions) -> Decoded {
    let message = decode_inbound_with(subject, body, options);
    // A request that cannot be serialised here is serialised again when stored, where the
    // failure is reported like any store error.
    let request_json = match &message {
        Ok(Inbound::Request(request)) => cards::serialise_request(request).ok(),
        _ => None,
    };
    Decoded { message, request_json }
}

impl Workflow {
    /// Decodes every body of `batch`. Touches no store, so it may run on any thread, e.g. while
    /// the previous batch commits; the result depends only on subject, body and this workflow's
    /// decode options, so deciding with it later is the same as decoding inside the transaction.
    pub fn decode(&self, batch: &[Envelope<'_>]) -> DecodedBatch {
        let options = self.decode_options();
        let entries = batch
            .iter()
            .map(|envelope| DecodedBody { source: source_of(envelope.body), decoded: decode_one(envelope, options) })
            .collect();
        DecodedBatch { entries }
    }
}
