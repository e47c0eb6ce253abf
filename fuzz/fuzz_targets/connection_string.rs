//! A pasted Service Bus connection string, then the settings made from it (one string for both
//! queues, and as the outbound credential beside itself).
#![no_main]

use cardbench_amqp::{ConnectionString, ServiceBusSettings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(cs) = ConnectionString::parse(text) else { return };
    let _ = ServiceBusSettings::from_connection_strings(&cs, None, "", "");
    let _ = ServiceBusSettings::from_connection_strings(&cs, Some(&cs), "in", "out");
});
