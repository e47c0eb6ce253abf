//! A received body of any subject: UTF-8, JSON, schema, the rules a schema cannot state, the
//! typed message. Must never panic, whatever the bytes.
#![no_main]

use cardbench_protocol::{DecodeOptions, Subject, decode_inbound_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let subject = Subject::ALL[usize::from(which) % Subject::ALL.len()];
    let options = DecodeOptions::default();
    if let Err(problems) = decode_inbound_with(subject, body, &options) {
        assert!(!problems.is_empty());
        assert!(problems.len() <= cardbench_protocol::problem::MAX_PROBLEMS_LISTED + 1);
    }
});
