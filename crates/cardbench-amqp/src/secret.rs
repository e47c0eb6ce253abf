//! [`Secret`]: a key or password held in memory, never printed; defined in [`cardbench_secrets`]
//! (every crate that files secrets uses the one type).

pub use cardbench_secrets::Secret;
