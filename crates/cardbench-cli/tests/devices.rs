//! `cardbench export-job` and `cardbench hotfolder watch` from the outside: a job file out, the
//! encoder's result file back in, every card produced; a bad row fails only itself.

use std::path::Path;
use std::process::Output;

mod common;

use common::text;

fn cardbench(dir: &Path, args: &[&str]) -> Output {
    common::run(dir, Some("Åsa Öberg"), args)
}


#[test]
fn a_job_goes_out_and_the_encoders_results_come_back_through_the_hot_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = cardbench(d, &["sim", "generate", "6", "--seed", "5", "--max-shipment", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cardbench(d, &["run", "--no-sim", "--for-seconds", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let jobs = d.join("jobs");
    let out = cardbench(d, &["--json", "export-job", "--waiting", "--folder", jobs.to_str().expect("utf-8"), "--bom", "--name", "night shift"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(job["cards"], 6);
    let path = job["path"].as_str().expect("path");
    assert!(path.contains("job-night_shift-"), "{path}");
    let bytes = std::fs::read(path).expect("job file");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let job_text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");

    // Play the encoder: a result row per job row, filling what each card expects; one row with a
    // bad UID.
    let mut reader = csv::Reader::from_reader(job_text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let expected_at = header.iter().position(|h| h == "expectedFields").expect("expectedFields column");
    let mut results = String::from("cardId,MIFARE_UID,PRINT_SERIAL\r\n");
    let mut first = None;
    for (i, record) in reader.records().enumerate() {
        let record = record.expect("row");
        let card = record.get(0).expect("cardId").to_owned();
        let serial = if record.get(expected_at).expect("fields").contains("PRINT_SERIAL") { format!("PS-{i}") } else { String::new() };
        let uid = if i == 0 { "04ZZ".to_owned() } else { format!("04A22B{i:02X}") };
        results.push_str(&format!("{card},{uid},{serial}\r\n"));
        first.get_or_insert(card);
    }
    // A folder of its own: one inside the data directory is refused.
    let hot_dir = tempfile::tempdir().expect("tempdir");
    let hot = hot_dir.path().join("hot");
    std::fs::create_dir_all(&hot).expect("mkdir");
    let out = cardbench(d, &["hotfolder", "watch", "--once", "--folder", d.join("inbox").to_str().expect("utf-8")]);
    assert_ne!(out.status.code(), Some(0), "a hot folder inside the data directory is refused");
    assert!(text(&out.stderr).contains("lies inside the data directory"), "{}", text(&out.stderr));
    assert!(!d.join("inbox").exists(), "and not created");
    std::fs::write(hot.join("results.csv"), results).expect("write");
    let out = cardbench(d, &["hotfolder", "watch", "--once", "--folder", hot.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1), "a file with a refused row is reported as failed: {}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("5 of 6 row(s) applied"), "{stdout}");
    let reason = std::fs::read_to_string(hot.join("failed/results.csv.reason.txt")).expect("reason file");
    let first = first.expect("a card");
    assert!(reason.contains(&format!("line 2 (card {first}): readouts refused: MIFARE_UID")), "{reason}");

    let list = cardbench(d, &["--json", "cards", "list", "--status", "produced"]);
    let page: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(page["rows"].as_array().map(Vec::len), Some(5), "five cards produced");

    // Nothing to export for a shipment that does not exist.
    let out = cardbench(d, &["export-job", "--shipment", "S-NOPE", "--folder", jobs.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
}

/// `--waiting` takes the lifecycle's one "still to be produced": a card whose readouts are
/// captured (it waits for its Produce) is exported with the received ones, not left out.
#[test]
fn export_waiting_takes_every_card_still_to_be_produced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = cardbench(d, &["sim", "generate", "3", "--seed", "5", "--max-shipment", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cardbench(d, &["run", "--no-sim", "--for-seconds", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    {
        let store = cardbench_store::Store::open_in(d).expect("store");
        let wf = cardbench_workflow::Workflow::new(std::sync::Arc::new(store));
        let page = wf.store().read(|c| cardbench_store::cards::worklist(c, &Default::default())).expect("worklist");
        assert_eq!(page.rows.len(), 3);
        let card = wf.store().read(|c| cardbench_store::cards::get(c, &page.rows[0].card_id)).expect("read").expect("card");
        let values: Vec<cardbench_workflow::ReadoutInput> = card
            .request
            .card
            .expected_report_data_fields
            .iter()
            .map(|f| cardbench_workflow::ReadoutInput { field: f.clone(), value: if f.contains("UID") { "04A22B1C".into() } else { "PS-1".into() } })
            .collect();
        let status = wf.save_readouts("Åsa Öberg", &card.card_id, &values, "typed").expect("save readouts");
        assert_eq!(status, cardbench_store::cards::CardStatus::ReadoutsCaptured);
    }
    let jobs = d.join("jobs");
    let out = cardbench(d, &["--json", "export-job", "--waiting", "--folder", jobs.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(job["cards"], 3, "the captured card is still to be produced");
}
