//! `cardbench slip|manifest|billing|shift-report` from the outside, on a store filled by the real
//! daemon and simulator: cards taken in, produced, accepted by the simulated NGOC, shipped. The
//! PDFs are read back with poppler's `pdftotext` and `pdfinfo`.

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::text;

fn cardbench(dir: &Path, args: &[&str]) -> Output {
    common::run(dir, Some("Åsa Öberg"), args)
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = cardbench(dir, args);
    assert!(out.status.success(), "cardbench {args:?}: {}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext").args(["-layout"]).arg(pdf).arg("-").output().expect("pdftotext (poppler-utils) installed");
    assert!(out.status.success(), "pdftotext {}: {}", pdf.display(), text(&out.stderr));
    text(&out.stdout)
}

fn files_in(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn documents_are_written_from_what_the_daemon_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    std::fs::write(
        data.join("config.toml"),
        "[documents.billing]\ndefault_cost_centre = \"CC-TEST\"\ninvoice_prefix = \"T-\"\n",
    )
    .expect("config");

    // Requests in shipments of up to four cards, taken in by the daemon.
    ok(data, &["sim", "generate", "6", "--seed", "11", "--max-shipment", "4"]);
    ok(data, &["run", "--no-sim", "--for-seconds", "2"]);
    let list: serde_json::Value = serde_json::from_str(&ok(data, &["--json", "cards", "list"])).expect("worklist JSON");
    let rows = list["rows"].as_array().expect("rows").clone();
    assert_eq!(rows.len(), 6);
    let shipment = rows[0]["shipment_id"].as_str().expect("shipment").to_owned();
    // Every card is produced; one shipment is shipped.
    let all: Vec<String> = rows.iter().map(|r| r["card_id"].as_str().expect("card id").to_owned()).collect();
    let cards: Vec<String> =
        rows.iter().filter(|r| r["shipment_id"] == shipment.as_str()).map(|r| r["card_id"].as_str().expect("card id").to_owned()).collect();

    // Produced from the command line, accepted by the simulator, then shipped in one parcel.
    for (i, card) in all.iter().enumerate() {
        // Every field the request expects: a unique UID, anything else a plain value.
        let shown: serde_json::Value = serde_json::from_str(&ok(data, &["--json", "cards", "show", card])).expect("card JSON");
        let mut args = vec!["produce".to_owned(), card.clone()];
        for field in shown["expected"].as_array().expect("expected fields") {
            let name = field["field"].as_str().expect("field name");
            args.push(if name == "MIFARE_UID" { format!("{name}=04A22B{i:02X}") } else { format!("{name}=V{i}") });
        }
        ok(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    ok(data, &["run", "--for-seconds", "4"]);
    let shown = ok(data, &["shipments", "show", &shipment]);
    assert!(shown.contains("ready"), "all accepted: {shown}");
    ok(data, &["ship", &shipment, "--all-ready", "--all-accessories", "--carrier", "PostNord", "--tracking", "TRK-77"]);
    ok(data, &["run", "--for-seconds", "3"]);

    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today.pred_opt().expect("yesterday").to_string(), today.succ_opt().expect("tomorrow").to_string());

    // Packing slip: every card, the carrier and tracking id, one page.
    let slip = data.join("slip.pdf");
    let said = ok(data, &["slip", &shipment, "--out", slip.to_str().expect("utf-8 path")]);
    assert!(said.contains("wrote"), "{said}");
    let slips: Vec<_> = std::fs::read_dir(data).expect("dir").filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "pdf")).collect();
    assert!(!slips.is_empty(), "{said}");
    let slip_text = slips.iter().map(|p| pdftotext(p)).collect::<String>();
    for card in &cards {
        assert!(slip_text.contains(card.as_str()), "{card} on the slip:\n{slip_text}");
    }
    assert!(slip_text.contains(&shipment) && slip_text.contains("TRK-77") && slip_text.contains("PostNord"), "{slip_text}");

    // Manifest: the parcel with its tracking id, PDF and CSV.
    let manifest_dir = data.join("manifest");
    ok(data, &["manifest", "--from", &from, "--to", &to, "--out", manifest_dir.to_str().expect("path")]);
    let csv = std::fs::read_to_string(&files_in(&manifest_dir, "csv")[0]).expect("manifest csv");
    assert!(csv.contains(&shipment) && csv.contains("TRK-77"), "{csv}");
    assert!(pdftotext(&files_in(&manifest_dir, "pdf")[0]).contains("TRK-77"));

    // Billing: the four accepted cards, under the configured cost centre and a fresh number.
    let billing_dir = data.join("billing");
    ok(data, &["billing", "--from", &from, "--to", &to, "--out", billing_dir.to_str().expect("path")]);
    let card_articles: std::collections::HashSet<&str> = rows.iter().map(|r| r["article_id"].as_str().expect("article")).collect();
    let mut card_lines = 0u64;
    let mut invoices = std::collections::HashSet::new();
    for file in files_in(&billing_dir, "csv") {
        let mut reader = csv::Reader::from_path(&file).expect("billing csv");
        assert_eq!(reader.headers().expect("header").iter().collect::<Vec<_>>(), ["COSTCENTRE", "INVOICENUMBER", "ARTICLENUMBER", "QUANTITY", "ORDERDATE"]);
        for record in reader.records() {
            let record = record.expect("row");
            assert_eq!(&record[0], "CC-TEST");
            assert!(record[1].starts_with("T-"), "{record:?}");
            invoices.insert((file.clone(), record[1].to_owned()));
            if card_articles.contains(&record[2]) {
                card_lines += record[3].parse::<u64>().expect("quantity");
            }
        }
    }
    let numbers: std::collections::HashSet<&String> = invoices.iter().map(|(_, n)| n).collect();
    assert_eq!(numbers.len(), files_in(&billing_dir, "csv").len(), "one invoice number per organisation file: {invoices:?}");
    assert_eq!(card_lines, 6, "every accepted card is billed once");

    // Shift report: the operator's productions.
    let shift_dir = data.join("shift");
    ok(data, &["shift-report", "--from", &from, "--to", &to, "--out", shift_dir.to_str().expect("path")]);
    let shift_csv = std::fs::read_to_string(&files_in(&shift_dir, "csv")[0]).expect("shift csv");
    assert!(shift_csv.contains("Åsa Öberg"), "{shift_csv}");
    assert!(pdftotext(&files_in(&shift_dir, "pdf")[0]).contains("Åsa Öberg"));

    // A bad period is refused with the reason, nothing written.
    let bad = cardbench(data, &["billing", "--from", &to, "--to", &from, "--out", data.join("nothing").to_str().expect("path")]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains(&format!("{to} is after {from}")), "{}", text(&bad.stderr));
    assert!(!data.join("nothing").exists());
}
