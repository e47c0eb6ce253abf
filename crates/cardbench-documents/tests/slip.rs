mod common;

use cardbench_documents::{HolderDisplay, PackingSlipData, SlipConfig, render_packing_slip};
use cardbench_protocol::Accessory;
use common::*;

const BASE: &str = "2026-11-23T07:00:00.000Z";

fn config() -> SlipConfig {
    SlipConfig {
        sender_line: "Kartenbüro Nord GmbH · Werkstraße 1 · 20095 Hamburg".into(),
        sender_name: "Kartenbüro Nord GmbH".into(),
        holder_display: HolderDisplay::Full,
        home_country: Some("SE".into()),
    }
}

/// A shipment of `n` cards, all produced, REPORT_OK'd and shipped in one parcel.
fn shipped_parcel(store: &cardbench_store::Store, n: usize) -> (i64, Vec<String>) {
    store
        .write(|tx| {
            let mut ids = Vec::new();
            for i in 0..n {
                let id = format!("CARD-{i:05}");
                let name = format!("{} {i}", NAMES[i % NAMES.len()]);
                receive(tx, &request("ORG-Malmö", "SHP-2026-0042", &id, "ART-PVC-01", &name, "2026-11-20T10:00:00+01:00"), BASE);
                produce(tx, "anna", &id, "SHP-2026-0042", &t(BASE, 5));
                report_ok(tx, &id, "SHP-2026-0042", &t(BASE, 6));
                ids.push(id);
            }
            let accessories = vec![
                Accessory { article_id: "ART-LANYARD".into(), accessory_id: "LANYARD-BLUE".into(), quantity: 3 },
                Accessory { article_id: "ART-SLEEVE".into(), accessory_id: "SLEEVE".into(), quantity: 7 },
            ];
            let parcel = ship(tx, "björn", "SHP-2026-0042", &ids, &accessories, Some("DHL"), Some("JJD0123456789"), &t(BASE, 30));
            Ok::<_, cardbench_store::StoreError>((parcel, ids))
        })
        .expect("seed")
}

#[test]
fn a_small_slip_shows_every_card_name_and_the_window_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let (parcel, ids) = shipped_parcel(&store, 6);
    let data = store.read(|c| PackingSlipData::load(c, parcel)).expect("load");
    assert_eq!(data.cards.len(), 6);
    assert_eq!(data.organisation_id, "ORG-Malmö");
    let pdf = render_packing_slip(&data, &config()).expect("render");
    let path = dir.path().join("slip.pdf");
    std::fs::write(&path, &pdf).expect("write");
    assert_eq!(pdf_pages(&path), 1);
    let text = pdf_text(&path);
    for id in &ids {
        assert!(text.contains(id), "{id} missing from:\n{text}");
    }
    for name in NAMES {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    for expected in ["Hauptstraße 12", "Gebäude Ä, 3. OG", "10115 Berlin", "Sören Kühn", "DE", "SHP-2026-0042", "DHL", "JJD0123456789", "LANYARD-BLUE", "page 1 of 1", "Total cards: 6", "Kartenbüro Nord GmbH"] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    let png = dir.path().join("slip");
    run("pdftoppm", &["-png", "-r", "80", "-f", "1", "-l", "1", path.to_str().expect("p"), png.to_str().expect("p")]);
    if let Ok(keep) = std::env::var("CARDBENCH_KEEP_DOCS") {
        let _ = std::fs::create_dir_all(&keep);
        let _ = std::fs::copy(&path, Path::new(&keep).join("slip-small.pdf"));
        let _ = std::fs::copy(dir.path().join("slip-1.png"), Path::new(&keep).join("slip-small-1.png"));
    }
    assert!(dir.path().join("slip-1.png").metadata().map(|m| m.len() > 1000).unwrap_or(false), "page 1 rendered to PNG");
}

use std::path::Path;

#[test]
fn a_thousand_card_parcel_breaks_over_pages_with_headers_and_page_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let (parcel, ids) = shipped_parcel(&store, 1000);
    let data = store.read(|c| PackingSlipData::load(c, parcel)).expect("load");
    let config = SlipConfig { holder_display: HolderDisplay::Initials, ..config() };
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("out dir");
    let written = cardbench_documents::slip(&store, &cardbench_documents::SlipTarget::Shipment("SHP-2026-0042".into()), &config, &out)
        .expect("slip via api");
    assert_eq!(written.len(), 1);
    let path = &written[0];
    let pages = pdf_pages(path);
    assert!(pages >= 20, "1,000 rows at 5 mm need 20+ pages, got {pages}");
    let text = pdf_text(path);
    for id in &ids {
        assert!(text.contains(id.as_str()), "{id} missing");
    }
    for n in 1..=pages {
        assert!(text.contains(&format!("page {n} of {pages}")), "page {n} of {pages} missing");
    }
    // The table header is repeated on every page (pdftotext separates pages with form feeds).
    let page_texts: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert_eq!(page_texts.len() as u32, pages);
    for (i, p) in page_texts.iter().enumerate() {
        assert!(p.contains("Card ID") && p.contains("Cardholder"), "page {} lacks the table header", i + 1);
    }
    // Initials only: "Åsa Ölund 7" → "Å. Ö. 7.", never the full name.
    assert!(text.contains("Å. Ö."), "initials with non-ASCII letters");
    assert!(!text.contains("Ölund"), "full names must not appear when initials are configured");
    assert!(text.contains("Total cards: 1000"));
    let data_again = store.read(|c| PackingSlipData::load(c, parcel)).expect("load");
    assert_eq!(data_again, data);
    if let Ok(keep) = std::env::var("CARDBENCH_KEEP_DOCS") {
        let _ = std::fs::copy(path, Path::new(&keep).join("slip-1000.pdf"));
    }
}

#[test]
fn printing_to_a_missing_queue_fails_clearly_and_keeps_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.pdf");
    let saved = cardbench_documents::print::print_or_save(b"%PDF-1.7", None, &path).expect("save");
    assert_eq!(saved, cardbench_documents::print::Printed::Saved(path.clone()));
    let err = cardbench_documents::print::print_or_save(b"%PDF-1.7", Some("no-such-queue-cardbench"), &path)
        .expect_err("no such printer");
    let msg = err.to_string();
    assert!(msg.contains("no-such-queue-cardbench"), "{msg}");
    assert!(path.exists(), "the file is kept for a reprint");
}

/// The print path end to end: a rendered slip goes through `lp` to a real CUPS scheduler
/// (tests/cups/start-cupsd.sh: a private cupsd whose test queue keeps each job's bytes) and
/// arrives unchanged.
#[test]
fn a_slip_printed_through_cups_arrives_byte_for_byte() {
    if std::env::var("CARDBENCH_SKIP_CUPS_TESTS").as_deref() == Ok("1") {
        eprintln!("CARDBENCH_SKIP_CUPS_TESTS=1: printing through CUPS not tested");
        return;
    }
    let (Ok(printer), Ok(printed)) = (std::env::var("CARDBENCH_TEST_PRINTER"), std::env::var("CARDBENCH_TEST_PRINTED")) else {
        panic!("no test CUPS: run tests/cups/start-cupsd.sh and export what it prints (or set CARDBENCH_SKIP_CUPS_TESTS=1)");
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir.path().join("data"));
    let (parcel, _) = shipped_parcel(&store, 3);
    let data = store.read(|c| PackingSlipData::load(c, parcel)).expect("load");
    let pdf = render_packing_slip(&data, &config()).expect("render");
    let before: std::collections::HashSet<_> = std::fs::read_dir(&printed).expect("printed dir").filter_map(|e| e.ok().map(|e| e.path())).collect();

    let path = dir.path().join("slip.pdf");
    let result = cardbench_documents::print::print_or_save(&pdf, Some(&printer), &path).expect("queued");
    let cardbench_documents::print::Printed::Queued { printer: queued_on, job } = result else { panic!("not queued: {result:?}") };
    assert_eq!(queued_on, printer);
    assert!(job.contains(&printer), "lp names the job: {job}");

    // The scheduler runs the job asynchronously: wait for its output.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let arrived = loop {
        let new: Vec<_> = std::fs::read_dir(&printed)
            .expect("printed dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| !before.contains(p) && p.extension().is_none())
            .collect();
        if let Some(p) = new.first() {
            break p.clone();
        }
        assert!(std::time::Instant::now() < deadline, "the job never reached the printer ({job})");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(std::fs::read(&arrived).expect("printed bytes"), pdf, "the printer got exactly the slip");
    assert_eq!(std::fs::read(&path).expect("kept"), pdf, "and the file is kept for a reprint");
}
