//! `cardbench bench --only slip`.

use std::time::Duration;

use super::common::ms;

/// A 1,000-card packing slip (goal ≤ 250 ms), beside a one-card slip rendered in the same run:
/// the ratio shows what the cards cost over the fixed cost of a document.
pub(super) fn slip() -> anyhow::Result<()> {
    use cardbench_documents::bench::{render_time, sample_parcel};
    crate::say!("\n== packing slip: 1,000 cards, rendered to PDF bytes (median of 5)");
    let median = |cards: usize| -> anyhow::Result<Duration> {
        let parcel = sample_parcel(cards);
        let mut times = (0..5).map(|_| render_time(&parcel)).collect::<Result<Vec<_>, _>>()?;
        times.sort();
        Ok(times[2])
    };
    let one = median(1)?;
    let thousand = median(1000)?;
    crate::say!("  (a) 1-card slip                 {:>8.1} ms", ms(one));
    crate::say!("      1,000-card slip             {:>8.1} ms  (goal ≤ 250 ms)", ms(thousand));
    crate::say!("  ratio to (a): {:.1}×  (1,000 times the cards)", thousand.as_secs_f64() / one.as_secs_f64());
    Ok(())
}
