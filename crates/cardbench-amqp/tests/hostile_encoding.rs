//! Messages built to crash the AMQP decoder are refused with an error, on a normal thread stack
//! and without a large allocation.
//!
//! fe2o3 decodes every transfer with serde_amqp before our receiver sees it (a single-frame
//! message through a `SliceReader`, one spread over several transfers through an `IoReader`), so
//! a crash there takes down the receiving tokio worker. Two did, both found by the `amqp_mapping`
//! fuzz target and fixed in our patched copy (`crates/third-party/serde_amqp/PATCHED.md`):
//! a length field taken from the message (str32/sym32/vbin32, up to 4 GiB) was allocated before
//! the bytes were checked, and lists nested 30,000 deep recursed until the stack overflowed.
//! Their inputs are kept in `tests/fuzz-regressions/amqp_mapping/`.

mod common;

use std::path::Path;

use fe2o3_amqp::types::messaging::message::DecodeIntoMessage;
use fe2o3_amqp::types::messaging::message::__private::Deserializable;
use fe2o3_amqp::types::messaging::{Body, Message};
use fe2o3_amqp::types::primitives::Value;
use serde_amqp::read::{IoReader, SliceReader};

type Decoded = Result<Message<Body<Value>>, serde_amqp::Error>;

/// The receiver's decode of a message that came in one transfer.
fn decode_slice(bytes: &[u8]) -> Decoded {
    Body::<Value>::decode_message_from_reader(SliceReader::new(bytes))
}

/// The receiver's decode of a message that came in two transfers (fe2o3 reads the payloads
/// through an `IoReader`).
fn decode_io(bytes: &[u8]) -> Decoded {
    let (first, second) = bytes.split_at(bytes.len() / 2);
    Body::<Value>::decode_message_from_reader(IoReader::new(std::io::Read::chain(first, second)))
}

/// The fuzz target's decode.
fn decode_from_slice(bytes: &[u8]) -> Decoded {
    serde_amqp::from_slice::<Deserializable<Message<Body<Value>>>>(bytes).map(|d| d.0)
}

/// Every decode path, each on a thread with a tokio worker's stack (2 MiB): a stack overflow
/// kills the test process, which fails the test.
fn decode_all_ways(bytes: &[u8]) -> [Decoded; 3] {
    let bytes = bytes.to_vec();
    std::thread::Builder::new()
        .name("decode".into())
        .stack_size(2 << 20)
        .spawn(move || [decode_slice(&bytes), decode_io(&bytes), decode_from_slice(&bytes)])
        .expect("spawn the decode thread")
        .join()
        .expect("the decode thread panicked")
}

/// This process's peak virtual size (Linux `VmPeak`), in KiB. A 4 GiB allocation shows here even
/// when the kernel lends the pages lazily and the allocation "succeeds".
fn vm_peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmPeak:"))?;
    line.trim().trim_end_matches("kB").trim().parse().ok()
}

/// Decodes `bytes` every way, checking that the process's peak size did not jump by more than
/// 1 GiB (the bug asked for 4 GiB; threads and allocator arenas of other tests stay far below).
fn decode_within_memory(what: &str, bytes: &[u8]) -> [Decoded; 3] {
    let before = vm_peak_kib();
    let results = decode_all_ways(bytes);
    if let (Some(before), Some(after)) = (before, vm_peak_kib()) {
        assert!(after.saturating_sub(before) < 1 << 20, "{what}: peak virtual size grew from {before} KiB to {after} KiB");
    }
    results
}

/// An AMQP message whose body (amqp-value) is `depth` nested lists.
fn nested_lists_message(depth: usize) -> Vec<u8> {
    [&[0x00, 0x53, 0x77][..], &common::nested_lists(depth)].concat()
}

/// The fuzz target's out-of-memory input: a sym32 claiming 4,283,587,925 bytes, then two bytes.
#[test]
fn fuzz_oom_input_is_refused_without_allocating_its_length() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions/amqp_mapping/oom-d27ad8d3a0c3a57fcd68e4617c624f186288a989");
    let bytes = std::fs::read(&path).expect("the fuzz artifact is in the repository");
    assert_eq!(bytes[0], 0xb3, "sym32");
    for (how, r) in ["slice", "io", "from_slice"].iter().zip(decode_within_memory("fuzz artifact", &bytes)) {
        assert!(r.is_err(), "{how}: {r:?}");
    }
}

/// Every input kept from the fuzz target decodes or is refused: no crash, no large allocation.
#[test]
fn fuzz_regressions_decode_without_crash() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions/amqp_mapping");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("the regression directory exists") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read");
        let _ = decode_within_memory(&path.display().to_string(), &bytes);
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs in {}", dir.display());
}

/// Lengths near 4 GiB in every place one is read: a string, a binary and a symbol in the body,
/// and a symbol descriptor (read by peeking ahead).
#[test]
fn huge_declared_lengths_are_refused_without_allocating_them() {
    let huge = [0xff, 0xff, 0xff, 0xf0];
    let cases: [(&str, Vec<u8>); 4] = [
        ("str32 body", [&[0x00, 0x53, 0x77, 0xb1][..], &huge, b"short"].concat()),
        ("vbin32 body", [&[0x00, 0x53, 0x77, 0xb0][..], &huge, b"short"].concat()),
        ("sym32 body", [&[0x00, 0x53, 0x77, 0xb3][..], &huge, b"short"].concat()),
        ("sym32 descriptor", [&[0x00, 0xb3][..], &huge, b"short"].concat()),
    ];
    for (what, bytes) in cases {
        for (how, r) in ["slice", "io", "from_slice"].iter().zip(decode_within_memory(what, &bytes)) {
            assert!(r.is_err(), "{what} via {how}: {r:?}");
        }
    }
}

/// 256 KB of nested lists (about 29,000 levels) in the body: refused with an error naming the
/// nesting, on a 2 MiB stack, by every decode path.
#[test]
fn deeply_nested_lists_are_refused_not_a_stack_overflow() {
    let bytes = nested_lists_message(256 * 1024 / 9);
    assert!(bytes.len() >= 256 * 1000);
    for (how, r) in ["slice", "io", "from_slice"].iter().zip(decode_within_memory("nested lists", &bytes)) {
        let e = r.expect_err(how);
        assert!(e.to_string().contains("nested deeper than 64 levels"), "{how}: {e}");
    }
    // The bare value too (serde_amqp's own entry points).
    let value = bytes[3..].to_vec();
    let results = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || (serde_amqp::from_slice::<Value>(&value).is_err(), serde_amqp::from_reader::<Value>(value.as_slice()).is_err()))
        .expect("spawn")
        .join()
        .expect("the decode thread panicked");
    assert_eq!(results, (true, true));
}

/// The bound is 64 levels in all; the message's own structure (its sections, the described
/// amqp-value) takes three, so a body may nest 61 lists (far beyond any real message) and
/// decodes on a 2 MiB stack (a debug build needs between 512 KiB and 1 MiB for it); 62 are
/// refused.
#[test]
fn lists_nested_up_to_the_bound_still_decode() {
    let refused = decode_all_ways(&nested_lists_message(62));
    for (how, r) in ["slice", "io", "from_slice"].iter().zip(refused) {
        assert!(r.is_err_and(|e| e.to_string().contains("nested deeper")), "{how}: 62 levels must be refused");
    }
    let bytes = nested_lists_message(61);
    for (how, r) in ["slice", "io", "from_slice"].iter().zip(decode_all_ways(&bytes)) {
        let message = r.unwrap_or_else(|e| panic!("{how}: {e}"));
        let Body::Value(v) = message.body else { panic!("{how}: not an amqp-value body") };
        let mut depth = 0;
        let mut current = &v.0;
        while let Value::List(items) = current {
            depth += 1;
            match items.first() {
                Some(inner) => current = inner,
                None => break,
            }
        }
        assert_eq!(depth, 62, "{how}: 61 lists and the empty one inside");
    }
}

/// A list whose size field is smaller than its own count field: an error, not an arithmetic
/// overflow panic (debug builds) or a wrapped size (release builds).
#[test]
fn list_sizes_smaller_than_their_header_are_refused() {
    let cases: [(&str, Vec<u8>); 3] = [
        ("list8 size 0", vec![0x00, 0x53, 0x77, 0xc0, 0x00, 0x00]),
        ("list32 size 0", vec![0x00, 0x53, 0x77, 0xd0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("array8 size 1", vec![0x00, 0x53, 0x77, 0xe0, 0x01, 0x01, 0x40]),
    ];
    for (what, bytes) in cases {
        for (how, r) in ["slice", "io", "from_slice"].iter().zip(decode_all_ways(&bytes)) {
            assert!(r.is_err(), "{what} via {how}: {r:?}");
        }
    }
}
