//! Requests for tests, made by the simulator's own generator (`generate::shipment`) from a fixed
//! seed and a fixed clock, so their content is the same on every run and a change to the message
//! schema is made in one place: the generator.
//!
//! A test names the ids it uses; everything else is the generator's. What the fixture promises
//! beyond that (and nothing more, so a test relying on any other value sets it itself):
//! - the card expects exactly the chip UID, `MIFARE_UID` (the readout most tests produce with);
//! - the content passes the contract's validation (`decode_inbound`).
//!
//! ```
//! let mut body = cardbench_sim::fixtures::request_json("C-1", "S-1");
//! body["card"]["cardElements"]["NAME"] = "Åsa Öberg".into();
//! ```

use cardbench_protocol::ExternalProductionData;
use chrono::{DateTime, Utc};
use rand::SeedableRng as _;
use rand::rngs::StdRng;

use crate::config::WireForms;
use crate::generate::{self, Ids};

/// The seed of every fixture: any fixed value; changing it changes every fixture's content.
const SEED: u64 = 14;
/// The generator's "now" (requests are ordered shortly before it).
const NOW: i64 = 1_795_163_400; // 2026-11-20T08:30:00Z

/// The readout the fixture's card expects.
pub const EXPECTED_FIELD: &str = "MIFARE_UID";

/// The ids a test names, handed to the generator.
struct Named<'a> {
    card_id: &'a str,
    shipment_id: &'a str,
}

impl Ids for Named<'_> {
    fn next_card_id(&mut self) -> String {
        self.card_id.to_owned()
    }

    fn next_shipment_id(&mut self) -> String {
        self.shipment_id.to_owned()
    }
}

/// One EXTERNAL_PRODUCTION_REQUEST_SENT for `card_id` in `shipment_id`, with accessories.
pub fn request(card_id: &str, shipment_id: &str) -> ExternalProductionData {
    let mut rng = StdRng::seed_from_u64(SEED);
    let now = DateTime::<Utc>::from_timestamp(NOW, 0).unwrap_or_default();
    let mut ids = Named { card_id, shipment_id };
    let mut request = generate::shipment(&mut rng, &mut ids, 1, 1.0, &WireForms::default(), now)
        .into_iter()
        .next()
        .unwrap_or_else(|| unreachable!("a shipment has at least one card"));
    request.card.expected_report_data_fields = vec![EXPECTED_FIELD.to_owned()];
    request
}

/// [`request`] as the JSON body a test sends (and mutates).
pub fn request_json(card_id: &str, shipment_id: &str) -> serde_json::Value {
    serde_json::to_value(request(card_id, shipment_id)).unwrap_or_else(|e| unreachable!("a request serialises: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cardbench_protocol::{Inbound, Subject, decode_inbound};

    #[test]
    fn a_fixture_names_the_given_ids_is_reproducible_and_passes_the_contract() {
        let a = request("C-1", "S-1");
        assert_eq!((a.card.card_id.as_str(), a.shipment_id.as_str()), ("C-1", "S-1"));
        assert_eq!(a, request("C-1", "S-1"), "the same every time");
        let b = request("C-2", "S-1");
        assert_eq!(b.card.card_id, "C-2");
        assert_eq!((&a.address, &a.card.card_elements), (&b.address, &b.card.card_elements), "only the ids differ");
        assert_eq!(a.card.expected_report_data_fields, [EXPECTED_FIELD]);
        assert!(!a.accessories.is_empty(), "the fixture carries accessories");
        let body = serde_json::to_vec(&request_json("C-1", "S-1")).expect("json");
        match decode_inbound(Subject::RequestSent, &body) {
            Ok(Inbound::Request(decoded)) => assert_eq!(decoded, a),
            other => panic!("the fixture is a valid request: {other:?}"),
        }
    }
}
