//! Property tests (proptest) run in the normal suite: readout normalisation round trips, and the
//! body decoder never panics and stays bounded on arbitrary input. The fuzz targets in `fuzz/`
//! explore further; their crash inputs are kept in `tests/fuzz-regressions/` (see below).

use cardbench_protocol::problem::MAX_PROBLEMS_LISTED;
use cardbench_protocol::{Subject, decode_inbound, normalise_readout};
use proptest::prelude::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn uid() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![Just(4usize), Just(7), Just(10)].prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n))
}

proptest! {
    #[test]
    fn msb_and_lsb_are_the_same_bytes_reversed_and_reversing_twice_gives_the_original(bytes in uid()) {
        let given = normalise_readout("MIFARE_UID", &hex(&bytes)).expect("a 4, 7 or 10 byte UID");
        let msb = given.msb_first.clone().expect("bytes");
        let lsb = given.lsb_first.clone().expect("bytes");
        let mut reversed = bytes.clone();
        reversed.reverse();
        prop_assert_eq!(&msb, &hex(&bytes));
        prop_assert_eq!(&lsb, &hex(&reversed));
        // The LSB form read back as a UID, reversed again: the original.
        let back = normalise_readout("MIFARE_UID", &lsb).expect("still a UID");
        prop_assert_eq!(back.lsb_first.expect("bytes"), msb);
    }

    #[test]
    fn hex_and_decimal_names_agree(bytes in uid()) {
        prop_assume!(bytes[0] != 0, "a decimal number does not keep leading zero bytes");
        let number = bytes.iter().fold(0u128, |n, b| n * 256 + u128::from(*b));
        let from_hex = normalise_readout("TRANSLATION_MIFARE_HEX_MSB", &hex(&bytes)).expect("hex");
        let from_dec = normalise_readout("TRANSLATION_MIFARE_DEC_MSB", &number.to_string()).expect("decimal");
        prop_assert_eq!(&from_dec.value, &number.to_string());
        prop_assert_eq!(from_dec.msb_first, from_hex.msb_first);
        prop_assert_eq!(from_dec.lsb_first, from_hex.lsb_first);
    }

    #[test]
    fn a_readout_of_any_text_never_panics(field in "[A-Z_]{0,30}", raw in any::<String>()) {
        let _ = normalise_readout(&field, &raw);
        let _ = normalise_readout("TRANSLATION_MIFARE_DEC_LSB", &raw);
        let _ = normalise_readout("ATR", &raw);
    }

    #[test]
    fn any_bytes_as_any_subject_decode_or_get_a_bounded_list_of_problems(which in 0usize..6, body in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Err(problems) = decode_inbound(Subject::ALL[which], &body) {
            prop_assert!(!problems.is_empty() && problems.len() <= MAX_PROBLEMS_LISTED + 1);
        }
    }

    #[test]
    fn any_json_as_a_request_decodes_or_gets_a_bounded_list_of_problems(json in json_value()) {
        let body = serde_json::to_vec(&json).expect("json");
        if let Err(problems) = decode_inbound(Subject::RequestSent, &body) {
            prop_assert!(!problems.is_empty() && problems.len() <= MAX_PROBLEMS_LISTED + 1);
        }
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[A-Za-z0-9 ]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(
                prop_oneof![Just("card".to_owned()), Just("cardId".to_owned()), Just("address".to_owned()), "[a-zA-Z]{1,8}"],
                inner,
                0..8
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every input a fuzz target once crashed on (`tests/fuzz-regressions/decode_request/*`: first
/// byte = subject, rest = body, as the target reads it) decodes or is refused, without a panic.
#[test]
fn fuzz_regressions_decode_without_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions/decode_request");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("the regression directory exists") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        let Some((&which, body)) = bytes.split_first() else { continue };
        let _ = decode_inbound(Subject::ALL[usize::from(which) % Subject::ALL.len()], body);
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs in {}", dir.display());
}
