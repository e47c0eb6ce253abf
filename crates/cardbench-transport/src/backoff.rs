//! Exponential backoff with jitter, so a floor of workstations does not reconnect in lockstep.
//! Used by every sender that retries: the NGOC links (`cardbench-runtime`) and the HTTP
//! deliveries (`cardbench-hooks`).

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { initial: Duration::from_millis(250), max: Duration::from_secs(30) }
    }
}

impl Backoff {
    /// The wait before attempt `attempt` (0-based): initial × 2^attempt, capped, then scaled by a
    /// random factor in [0.5, 1.0].
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self.initial.saturating_mul(1u32 << attempt.min(16)).min(self.max);
        let factor: f64 = rand::rng().random_range(0.5..=1.0);
        base.mul_f64(factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let b = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(2) };
        for attempt in 0..40 {
            let d = b.delay(attempt);
            let ceiling = Duration::from_millis(100).saturating_mul(1 << attempt.min(16)).min(Duration::from_secs(2));
            assert!(d <= ceiling && d >= ceiling / 2, "attempt {attempt}: {d:?} not in [{:?}, {ceiling:?}]", ceiling / 2);
        }
    }
}
