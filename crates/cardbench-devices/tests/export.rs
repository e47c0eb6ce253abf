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
