//! Worklist paging and filters on a real store file.

use cardbench_protocol::ExternalProductionData;
use cardbench_sim::fixtures;
use cardbench_store::cards::{self, CardStatus, StatusChange, WorklistFilter};
use cardbench_store::{Store, shipments};

/// The simulator's request (`cardbench_sim::fixtures`) for card `C-{i:04}`, with what these
/// tests filter, search and sort on set here: organisation, article, holder, no readouts.
fn request(i: u32, holder: &str) -> ExternalProductionData {
    let mut r = fixtures::request(&format!("C-{i:04}"), &format!("S-{}", i / 10));
    r.organisation_id = format!("ORG-{}", i % 2);
    r.card.article_id = "A".into();
    r.card.card_elements.insert("NAME".into(), holder.into());
    r.address.recipient = Some(holder.into());
    r.card.expected_report_data_fields = Vec::new();
    r
}

fn store_with(n: u32) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = cardbench_store::testing::store_in(dir.path()).expect("open");
    store
        .write(|tx| {
            let envelope = cardbench_store::inbox::Envelope { body: b"{}", ..Default::default() };
            let inbox_id = cardbench_store::inbox::insert(
                tx,
                &cardbench_store::inbox::NewInboxRow {
                    envelope: &envelope,
                    received_at: "t",
                    outcome: cardbench_store::inbox::Outcome::Accepted,
                    reason: None,
                    card_id: None,
                    shipment_id: None,
                },
            )?;
            for i in 0..n {
                let holder = if i % 3 == 0 { format!("Łukasz Żółć {i}") } else { format!("Åsa Öberg {i}") };
                let r = request(i, &holder);
                shipments::ensure(tx, &r.shipment_id, &r.organisation_id, "t")?;
                let at = format!("2026-11-20T08:{:02}:{:02}.000Z", i / 60, i % 60);
                cards::insert(tx, &r, inbox_id, &at)?;
                if i % 4 == 0 {
                    cards::set_status(tx, &r.card.card_id, CardStatus::ReportOk, &StatusChange::default(), &at)?;
                }
            }
            Ok::<_, cardbench_store::StoreError>(())
        })
        .expect("fill");
    (dir, store)
}

#[test]
fn keyset_pages_cover_every_card_once_in_order() {
    let (_dir, store) = store_with(250);
    let mut seen = Vec::new();
    let mut filter = WorklistFilter { limit: Some(100), ..Default::default() };
    loop {
        let page = store.read(|c| cards::worklist(c, &filter)).expect("page");
        seen.extend(page.rows.iter().map(|r| r.card_id.clone()));
        match page.next {
            Some(next) => filter.after = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (0..250).map(|i| format!("C-{i:04}")).collect();
    assert_eq!(seen, expected, "pages must neither skip nor repeat cards");
}

#[test]
fn filters_and_search_narrow_the_list() {
    let (_dir, store) = store_with(100);
    let page = |f: WorklistFilter| store.read(|c| cards::worklist(c, &f)).expect("page").rows;
    let ok = page(WorklistFilter { statuses: vec![CardStatus::ReportOk], limit: Some(1000), ..Default::default() });
    assert_eq!(ok.len(), 25);
    assert!(ok.iter().all(|r| r.status == CardStatus::ReportOk));
    let org = page(WorklistFilter { organisation_id: Some("ORG-1".into()), limit: Some(1000), ..Default::default() });
    assert_eq!(org.len(), 50);
    assert_eq!(page(WorklistFilter { shipment_id: Some("S-3".into()), ..Default::default() }).len(), 10);
    let by_id = page(WorklistFilter { search: Some("C-005".into()), ..Default::default() });
    assert_eq!(by_id.iter().map(|r| r.card_id.as_str()).collect::<Vec<_>>(), (50..60).map(|i| format!("C-{i:04}")).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>());
    let by_name = page(WorklistFilter { search: Some("łukasz".into()), search_holder: true, ..Default::default() });
    if cardbench_store::testing::on_postgres() {
        assert!(!by_name.is_empty(), "PostgreSQL's ILIKE folds every letter: 'ł' finds 'Ł'");
    } else {
        assert!(by_name.is_empty(), "SQLite's LIKE folds ASCII case only; 'Ł' is not 'ł' — documented limit");
    }
    let by_name = page(WorklistFilter { search: Some("Łukasz Żółć 9".into()), search_holder: true, ..Default::default() });
    assert_eq!(by_name.iter().map(|r| r.card_id.as_str()).collect::<Vec<_>>(), vec!["C-0009", "C-0090", "C-0093", "C-0096", "C-0099"]);
    let ascii_case = page(WorklistFilter { search: Some("Åsa ÖBERG 1".into()), search_holder: true, limit: Some(1000), ..Default::default() });
    assert!(!ascii_case.is_empty(), "ASCII letters of a name match in any case");
    let masked = page(WorklistFilter { search: Some("Łukasz Żółć 9".into()), limit: Some(1000), ..Default::default() });
    assert!(masked.is_empty(), "without search_holder (names masked) a name prefix finds nothing: no name oracle");
    let masked_full = page(WorklistFilter { search: Some("Åsa Öberg 1".into()), limit: Some(1000), ..Default::default() });
    assert!(masked_full.is_empty(), "not even a full name");
    let wildcard = page(WorklistFilter { search: Some("C-00_".into()), ..Default::default() });
    assert!(wildcard.is_empty(), "_ is a literal in a search, not a wildcard");
    let combined = page(WorklistFilter { statuses: vec![CardStatus::Received], shipment_id: Some("S-0".into()), ..Default::default() });
    assert_eq!(combined.len(), 7, "S-0 has C-0000..C-0009, of which 0, 4, 8 are report_ok");
}

// ---- sorting (issue 17) ----------------------------------------------------------------------

use cardbench_store::cards::{SortColumn, WorklistRow};

/// Every page of `filter` in turn, `limit` rows at a time.
fn all_pages(store: &Store, mut filter: WorklistFilter) -> Vec<WorklistRow> {
    let mut seen = Vec::new();
    loop {
        let page = store.read(|c| cards::worklist(c, &filter)).expect("page");
        seen.extend(page.rows);
        match page.next {
            Some(next) => filter.after = Some(next),
            None => return seen,
        }
    }
}

/// The order a sort promises, worked out here from the rows themselves.
fn expected_order(rows: &[WorklistRow], sort: SortColumn, descending: bool) -> Vec<String> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| {
        let key = |r: &WorklistRow| -> (Option<String>, String, String) {
            match sort {
                SortColumn::Received => (None, r.received_at.clone(), r.card_id.clone()),
                SortColumn::Card => (None, String::new(), r.card_id.clone()),
                SortColumn::Organisation => (Some(r.organisation_id.clone()), r.received_at.clone(), r.card_id.clone()),
                SortColumn::Shipment => (Some(r.shipment_id.clone()), r.received_at.clone(), r.card_id.clone()),
                SortColumn::Article => (Some(r.article_id.clone()), r.received_at.clone(), r.card_id.clone()),
                SortColumn::Status => (Some(r.status.as_str().to_owned()), r.received_at.clone(), r.card_id.clone()),
                // NOCASE folds ASCII letters only, as SQLite's collation does; PostgreSQL's lower()
                // folds every letter (and the test server's C.UTF-8 orders by code point).
                SortColumn::Holder => (
                    r.holder.as_ref().map(|h| if cardbench_store::testing::on_postgres() { h.to_lowercase() } else { h.to_ascii_lowercase() }),
                    String::new(),
                    r.card_id.clone(),
                ),
            }
        };
        let o = key(a).cmp(&key(b));
        if descending { o.reverse() } else { o }
    });
    rows.into_iter().map(|r| r.card_id).collect()
}

#[test]
fn every_sort_pages_through_every_card_once_in_its_order() {
    let (_dir, store) = store_with(130);
    // Some cards without a holder name (NULL sorts first ascending, last descending), and names
    // differing only in ASCII case (one NOCASE key: the cardId breaks the tie).
    store
        .write(|tx| {
            tx.execute_batch(
                "UPDATE cards SET holder = NULL WHERE card_id IN ('C-0005', 'C-0017', 'C-0099');
                 UPDATE cards SET holder = 'åsa öberg 1' WHERE card_id = 'C-0100';
                 UPDATE cards SET organisation_id = 'ORG-0' WHERE card_id = 'C-0101';
                 UPDATE cards SET received_at = '2026-11-20T08:00:00.000Z' WHERE card_id IN ('C-0003', 'C-0110', 'C-0120');",
            )
            .map_err(cardbench_store::StoreError::from)
        })
        .expect("vary");
    let everything = all_pages(&store, WorklistFilter { limit: Some(1000), ..Default::default() });
    assert_eq!(everything.len(), 130);
    for sort in SortColumn::ALL {
        for descending in [false, true] {
            let got: Vec<String> = all_pages(&store, WorklistFilter { sort, descending, limit: Some(2), ..Default::default() })
                .into_iter()
                .map(|r| r.card_id)
                .collect();
            assert_eq!(got, expected_order(&everything, sort, descending), "sorted by {} descending={descending}", sort.as_str());
        }
    }
}

#[test]
fn sorting_keeps_the_filters() {
    let (_dir, store) = store_with(100);
    let rows = all_pages(
        &store,
        WorklistFilter {
            statuses: vec![CardStatus::Received, CardStatus::ReportOk],
            organisation_id: Some("ORG-1".into()),
            sort: SortColumn::Shipment,
            descending: true,
            limit: Some(9),
            ..Default::default()
        },
    );
    assert_eq!(rows.len(), 50, "both statuses of ORG-1: every odd card");
    assert_eq!(rows.first().map(|r| r.shipment_id.as_str()), Some("S-9"));
    assert_eq!(rows.last().map(|r| r.shipment_id.as_str()), Some("S-0"));
}

#[test]
fn the_article_filter_narrows_the_list() {
    let (_dir, store) = store_with(40);
    store
        .write(|tx| {
            tx.execute_batch("UPDATE cards SET article_id = 'B' WHERE card_id IN ('C-0002', 'C-0011', 'C-0030')")
                .map_err(cardbench_store::StoreError::from)
        })
        .expect("vary");
    let ids: Vec<String> = all_pages(&store, WorklistFilter { article_id: Some("B".into()), ..Default::default() })
        .into_iter()
        .map(|r| r.card_id)
        .collect();
    assert_eq!(ids, ["C-0002", "C-0011", "C-0030"]);
}

#[test]
fn every_sort_reads_an_index_in_order_instead_of_sorting_the_table() {
    // SQLite's query plan (EXPLAIN QUERY PLAN); PostgreSQL plans by its own statistics.
    if cardbench_store::testing::on_postgres() {
        return;
    }
    let (_dir, store) = store_with(10);
    for sort in SortColumn::ALL {
        for descending in [false, true] {
            let first = WorklistFilter { sort, descending, ..Default::default() };
            let page = store.read(|c| cards::worklist(c, &WorklistFilter { limit: Some(3), ..first.clone() })).expect("page");
            let deep = WorklistFilter { after: page.next, ..first.clone() };
            for f in [first, deep] {
                let plan = store.read(|c| cards::worklist_plan(c, &f)).expect("plan").join(" | ");
                assert!(!plan.contains("TEMP B-TREE"), "sorted by {} desc={descending}: {plan}", sort.as_str());
                assert!(plan.contains("USING") && plan.contains("INDEX"), "sorted by {} desc={descending}: {plan}", sort.as_str());
            }
        }
    }
}

#[test]
fn broad_filters_read_the_sort_index_in_order_when_it_fills_a_page_soon() {
    // SQLite's query plan (EXPLAIN QUERY PLAN); PostgreSQL plans by its own statistics.
    if cardbench_store::testing::on_postgres() {
        return;
    }
    let (_dir, store) = store_with(130);
    for sort in SortColumn::ALL {
        let f = WorklistFilter {
            statuses: vec![CardStatus::Received, CardStatus::ReportOk],
            organisation_id: Some("ORG-1".into()),
            sort,
            limit: Some(5),
            ..Default::default()
        };
        let plan = store.read(|c| cards::worklist_plan(c, &f)).expect("plan").join(" | ");
        assert!(!plan.contains("TEMP B-TREE"), "sorted by {} with two statuses and an organisation: {plan}", sort.as_str());
        // The same rows as without the hint: every match once, in order.
        let hinted: Vec<String> = all_pages(&store, f.clone()).into_iter().map(|r| r.card_id).collect();
        let everything = all_pages(&store, WorklistFilter { limit: Some(1000), ..Default::default() });
        let matching: Vec<WorklistRow> = everything
            .into_iter()
            .filter(|r| r.organisation_id == "ORG-1" && matches!(r.status, CardStatus::Received | CardStatus::ReportOk))
            .collect();
        assert_eq!(hinted, expected_order(&matching, sort, false), "sorted by {}", sort.as_str());
    }
}

#[test]
fn a_page_marks_the_cards_in_hand_on_their_own_rows_and_not_a_claim_run_out() {
    let (_dir, store) = store_with(40);
    let later = cardbench_store::time::format(chrono::Utc::now() + chrono::Duration::hours(1));
    let earlier = cardbench_store::time::format(chrono::Utc::now() - chrono::Duration::minutes(1));
    store
        .write(|tx| {
            cardbench_store::claims::take(tx, "C-0007", "LINE-2", "björn", "2026-11-20T09:00:00.000Z", &later)?;
            cardbench_store::claims::take(tx, "C-0031", "LINE-3", "chen", "2026-11-20T09:00:00.000Z", &later)?;
            // A station that died holding this one: its claim ran out a minute ago.
            cardbench_store::claims::take(tx, "C-0012", "LINE-4", "dana", "2026-11-20T09:00:00.000Z", &earlier)?;
            Ok::<_, cardbench_store::StoreError>(())
        })
        .expect("claims");
    for sort in SortColumn::ALL {
        for descending in [false, true] {
            let filter = WorklistFilter { sort, descending, limit: Some(7), ..Default::default() };
            let rows = all_pages(&store, filter.clone());
            // The order is the page's own, with or without cards in hand.
            let order: Vec<&str> = rows.iter().map(|r| r.card_id.as_str()).collect();
            assert_eq!(order.len(), 40);
            let marked: Vec<(&str, &str, &str)> = rows
                .iter()
                .filter_map(|r| r.taken.as_ref().map(|c| (r.card_id.as_str(), c.card_id.as_str(), c.station.as_str())))
                .collect();
            let mut marked_sorted = marked.clone();
            marked_sorted.sort();
            assert_eq!(
                marked_sorted,
                vec![("C-0007", "C-0007", "LINE-2"), ("C-0031", "C-0031", "LINE-3")],
                "sorted by {} descending={descending}",
                sort.as_str()
            );
            let held = rows.iter().find(|r| r.card_id == "C-0007").and_then(|r| r.taken.clone()).expect("held");
            assert_eq!((held.operator.as_str(), held.expires_at.as_str()), ("björn", later.as_str()));
        }
    }
    // Released, the card is unmarked on the next page read.
    store.write(|tx| cardbench_store::claims::release(tx, "C-0007", "LINE-2")).expect("release");
    let rows = all_pages(&store, WorklistFilter { limit: Some(100), ..Default::default() });
    assert_eq!(rows.iter().filter(|r| r.taken.is_some()).map(|r| r.card_id.as_str()).collect::<Vec<_>>(), vec!["C-0031"]);
}
