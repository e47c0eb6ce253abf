//! `cardbench bench` figure for documents: rendering a 1,000-card packing slip (goal ≤ 250 ms).

use std::time::{Duration, Instant};

use crate::config::SlipConfig;
use crate::error::Result;
use crate::slip::{PackingSlipData, SlipCard, render_packing_slip};

/// A parcel like a large real one: 1,000 cards with non-ASCII names, two accessory lines.
pub fn sample_parcel(cards: usize) -> PackingSlipData {
    const NAMES: [&str; 4] = ["Åsa Ölund", "Jörg Weiß", "Łukasz Żółć", "Émilie Brontë"];
    PackingSlipData {
        parcel_id: 1,
        message_id: "7d1f6a0e-0000-4000-8000-000000000001".into(),
        shipment_id: "SHP-BENCH-0001".into(),
        organisation_id: "ORG-BENCH".into(),
        created_at: "2026-11-23T09:00:00.000Z".into(),
        carrier: Some("DHL".into()),
        tracking_id: Some("JJD000000000001".into()),
        address: Some(cardbench_protocol::Address {
            address_one: "Hauptstraße 1".into(),
            address_two: None,
            postal_code: "10115".into(),
            city: "Berlin".into(),
            country_code: "DE".into(),
            recipient: Some("Sören Kühn".into()),
            recipient_phone: None,
            company_name: Some("Kunde GmbH".into()),
        }),
        cards: (0..cards)
            .map(|i| SlipCard {
                card_id: format!("CARD-{i:06}"),
                article_id: "ART-PVC-01".into(),
                holder: Some(format!("{} {i}", NAMES[i % NAMES.len()])),
            })
            .collect(),
        accessories: vec![
            cardbench_protocol::Accessory { article_id: "ART-LANYARD".into(), accessory_id: "LANYARD".into(), quantity: 10 },
            cardbench_protocol::Accessory { article_id: "ART-SLEEVE".into(), accessory_id: "SLEEVE".into(), quantity: 1000 },
        ],
    }
}

/// Time to render `parcel`'s slip to PDF bytes, after a warm-up render of the same (the one-time
/// font parse is not counted: a running app has done it already).
pub fn render_time(parcel: &PackingSlipData) -> Result<Duration> {
    let config = SlipConfig::default();
    render_packing_slip(parcel, &config)?;
    let start = Instant::now();
    let pdf = render_packing_slip(parcel, &config)?;
    let elapsed = start.elapsed();
    std::hint::black_box(pdf);
    Ok(elapsed)
}

/// Time to render a 1,000-card slip to PDF bytes (after one warm-up render, so the one-time font
/// parse is not counted: a running app has done it already).
pub fn bench_packing_slip_1000() -> Result<Duration> {
    let data = sample_parcel(1000);
    let config = SlipConfig::default();
    render_packing_slip(&sample_parcel(1), &config)?;
    let start = Instant::now();
    let pdf = render_packing_slip(&data, &config)?;
    let elapsed = start.elapsed();
    std::hint::black_box(pdf);
    Ok(elapsed)
}
