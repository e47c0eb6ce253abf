//! `cardbench bench --only worklist`: page queries on a large store.

use std::path::Path;
use std::time::{Duration, Instant};

use cardbench_protocol::ExternalProductionData;
use cardbench_store::cards::{self, CardStatus, SortColumn, WorklistCursor, WorklistFilter};
use cardbench_store::inbox::{self, Envelope, NewInboxRow, Outcome};
use cardbench_store::{Store, shipments};

use super::common::{ms, request_bodies};

/// Worklist queries on a large store: p95 of filtered pages, searches and deep pages. Returns the
/// store, filled, and the requests its cards were made from.
pub(super) fn worklist(dir: &Path, n: u32) -> anyhow::Result<(Store, Vec<ExternalProductionData>)> {
    crate::say!("\n== worklist: {n} cards");
    let store = Store::open_in(&dir.join("worklist"))?;
    let start = Instant::now();
    let parsed = fill(&store, n)?;
    // Fill-in time is set-up, not a figure.
    crate::say!("  (store filled in {:.1} s)", start.elapsed().as_secs_f64());
    cardbench_store::bench::settle_after_fill(&store)?;
    for q in measure(&[&store], n, &parsed)?.into_iter().flatten() {
        crate::say!("  {:<34} p50 {:>7.2} ms   p95 {:>7.2} ms  (goal p95 ≤ 20 ms)", q.name, ms(q.p50), ms(q.p95));
    }
    Ok((store, parsed))
}

/// The request bodies the cards are made from (their articles are the filters' values).
pub(super) fn requests(n: u32) -> anyhow::Result<Vec<ExternalProductionData>> {
    let bodies = request_bodies(n.min(50_000));
    Ok(bodies.iter().map(|b| serde_json::from_slice(b)).collect::<Result<_, _>>()?)
}

/// Fills `store` with `n` cards in every status (four a shipment, seven organisations), received
/// a second apart; returns the requests they were made from.
pub(super) fn fill(store: &Store, n: u32) -> anyhow::Result<Vec<ExternalProductionData>> {
    let parsed = requests(n)?;
    let statuses = CardStatus::ALL;
    // Every card points at the request that created it; one stand-in request row serves them all.
    let inbox_id = store.write(|tx| {
        let envelope = Envelope { body: b"{}", ..Default::default() };
        inbox::insert(
            tx,
            &NewInboxRow { envelope: &envelope, received_at: "t", outcome: Outcome::Accepted, reason: None, card_id: None, shipment_id: None },
        )
    })?;
    let mut i: u32 = 0;
    while i < n {
        store.write(|tx| {
            for _ in 0..10_000 {
                if i >= n {
                    break;
                }
                let mut request = parsed[(i as usize) % parsed.len()].clone();
                request.card.card_id = format!("C-{i:08}");
                request.shipment_id = format!("S-{:07}", i / 4);
                request.organisation_id = format!("ORG-{}", (i / 4) % 7);
                shipments::ensure(tx, &request.shipment_id, &request.organisation_id, "2026-11-01T00:00:00.000Z")?;
                let received = cardbench_store::time::format(
                    chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(1_790_000_000 + i64::from(i)),
                );
                let status = statuses[(i as usize * 7919) % statuses.len()];
                cardbench_store::bench::seed_card(tx, &request, inbox_id, status, &received)?;
                i += 1;
            }
            Ok::<_, cardbench_store::StoreError>(())
        })?;
    }
    Ok(parsed)
}

/// One worklist query's figures.
pub(super) struct Timed {
    pub name: String,
    pub p50: Duration,
    pub p95: Duration,
}

/// Times each of the worklist's page queries (the filters and sorts the app asks for) 200 times
/// on each of `stores`, all filled by [`fill`] with the same `n` cards from `parsed`: the figures
/// of each store, in its order. The stores take turns, query by query, so a machine busy with
/// something else for a while weighs on each alike.
pub(super) fn measure(stores: &[&Store], n: u32, parsed: &[ExternalProductionData]) -> anyhow::Result<Vec<Vec<Timed>>> {
    let statuses = CardStatus::ALL;
    let first = stores.first().copied().ok_or_else(|| anyhow::anyhow!("no store to measure"))?;
    let mut out: Vec<Vec<Timed>> = stores.iter().map(|_| Vec::new()).collect();
    let mut report = |name: &str, make: &dyn Fn(u32) -> WorklistFilter| -> anyhow::Result<()> {
        let mut times: Vec<Vec<Duration>> = stores.iter().map(|_| Vec::with_capacity(200)).collect();
        for k in 0..200u32 {
            let filter = make(k);
            for (store, times) in stores.iter().zip(times.iter_mut()) {
                let t = Instant::now();
                let page = store.read(|c| cards::worklist(c, &filter))?;
                times.push(t.elapsed());
                std::hint::black_box(page);
            }
        }
        for (mut times, out) in times.into_iter().zip(out.iter_mut()) {
            times.sort();
            out.push(Timed { name: name.to_owned(), p50: times[times.len() / 2], p95: times[times.len() * 95 / 100] });
        }
        Ok(())
    };
    report("first page, no filter", &|_| WorklistFilter { limit: Some(100), ..Default::default() })?;
    // A floor's cards in hand (one per station, and a few forgotten ones) marked on the page: the
    // same page with and without them, in this run.
    let in_hand: Vec<String> = (0..20).map(|k| format!("C-{:08}", k * 3)).collect();
    let until = cardbench_store::time::format(chrono::Utc::now() + chrono::Duration::hours(1));
    for store in stores {
        store.write(|tx| {
            for (k, card) in in_hand.iter().enumerate() {
                cardbench_store::claims::take(tx, card, &format!("station-{k}"), "bench", "2026-11-01T00:00:00.000Z", &until)?;
            }
            Ok::<_, cardbench_store::StoreError>(())
        })?;
    }
    report("first page, 20 cards in hand", &|_| WorklistFilter { limit: Some(100), ..Default::default() })?;
    for store in stores {
        store.write(|tx| {
            for (k, card) in in_hand.iter().enumerate() {
                cardbench_store::claims::release(tx, card, &format!("station-{k}"))?;
            }
            Ok::<_, cardbench_store::StoreError>(())
        })?;
    }
    report("deep page (keyset)", &|k| WorklistFilter {
        after: Some(WorklistCursor {
            received_at: cardbench_store::time::format(
                chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(1_790_000_000 + i64::from(k * 4_999 % n.max(1))),
            ),
            card_id: String::new(),
            key: None,
        }),
        limit: Some(100),
        ..Default::default()
    })?;
    // Sorted by another column, first and deep pages (the cursor of a page k rows in).
    for sort in [SortColumn::Organisation, SortColumn::Status, SortColumn::Holder, SortColumn::Card] {
        report(&format!("sorted by {}, descending", sort.as_str()), &|_| WorklistFilter {
            sort,
            descending: true,
            limit: Some(100),
            ..Default::default()
        })?;
        // The cursor of a page 20,000 rows in, on the first store (the same rows in each).
        let deep = first.read(|c| {
            let mut f = WorklistFilter { sort, limit: Some(1000), ..Default::default() };
            for _ in 0..20 {
                match cards::worklist(c, &f)?.next {
                    Some(next) => f.after = Some(next),
                    None => break,
                }
            }
            Ok::<_, cardbench_store::StoreError>(f.after)
        })?;
        report(&format!("sorted by {}, deep page", sort.as_str()), &|_| WorklistFilter {
            sort,
            after: deep.clone(),
            limit: Some(100),
            ..Default::default()
        })?;
    }
    report("two statuses, oldest first", &|_| WorklistFilter {
        statuses: vec![CardStatus::Received, CardStatus::ReportError],
        limit: Some(100),
        ..Default::default()
    })?;
    report("rare status + organisation, by holder", &|k| WorklistFilter {
        statuses: vec![CardStatus::ShipError],
        organisation_id: Some(format!("ORG-{}", k % 7)),
        sort: SortColumn::Holder,
        limit: Some(100),
        ..Default::default()
    })?;
    report("two statuses + article, by shipment", &|k| WorklistFilter {
        statuses: vec![CardStatus::Received, CardStatus::ReportError],
        article_id: Some(parsed[k as usize % parsed.len()].card.article_id.clone()),
        sort: SortColumn::Shipment,
        limit: Some(100),
        ..Default::default()
    })?;
    report("status filter", &|k| WorklistFilter {
        statuses: vec![statuses[k as usize % statuses.len()]],
        limit: Some(100),
        ..Default::default()
    })?;
    report("organisation + status", &|k| WorklistFilter {
        statuses: vec![CardStatus::ReportOk],
        organisation_id: Some(format!("ORG-{}", k % 7)),
        limit: Some(100),
        ..Default::default()
    })?;
    report("shipment", &|k| WorklistFilter { shipment_id: Some(format!("S-{:07}", (k * 977) % (n / 4).max(1))), ..Default::default() })?;
    report("search cardId prefix", &|k| WorklistFilter {
        search: Some(format!("C-{:06}", (k * 3_331) % (n / 100).max(1))),
        limit: Some(100),
        ..Default::default()
    })?;
    report("search holder prefix", &|k| WorklistFilter {
        search: Some(format!("Åsa Öberg {}", k * 37)),
        search_holder: true,
        limit: Some(100),
        ..Default::default()
    })?;
    Ok(out)
}
