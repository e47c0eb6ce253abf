//! Retention and masking from the outside: cards driven through the real workflow into a data
//! directory on disk, then the real `cardbench` binary purging and showing them.
//!
//! The clock: `cardbench purge` purges as of now, so "a card shipped 400 days ago" is written as
//! such — its SHIPPED_OK time and its files' modification times set 400 days back — rather than
//! moving the purge's clock (the workflow's `purge` takes `now`; see the workflow tests).

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::audit::{self, AuditFilter};
use cardbench_store::inbox::Envelope;
use cardbench_workflow::{ParcelRequest, ReadoutInput, Workflow};
use serde_json::{Value, json};

mod common;

use common::text;

const OLD_NAME: &str = "Ingegerd Gammalsdotter";
const OLD_STREET: &str = "Forntidsvägen 17";
const OLD_ELEMENT: &str = "EMP-99120";
const OLD_UID: &str = "04A1B2C3";
const NEW_NAME: &str = "Nyberg Färskesson";
const WAIT_NAME: &str = "Väntan Ännusson";
const REJECTED_NAME: &str = "Avvisad Okändsson";

struct Floor {
    root: tempfile::TempDir,
}

impl Floor {
    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }
    fn hot(&self) -> PathBuf {
        self.root.path().join("hot")
    }
    fn export(&self) -> PathBuf {
        self.root.path().join("export")
    }
    fn config(&self) -> PathBuf {
        self.root.path().join("config.toml")
    }

    fn new(mask_holder: bool) -> Floor {
        let root = tempfile::tempdir().expect("tempdir");
        let floor = Floor { root };
        for dir in [
            floor.data(),
            floor.hot().join("processed"),
            floor.hot().join("failed"),
            floor.export(),
        ] {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        let config = format!(
            "[workstation]\nmask_holder = {mask_holder}\nretention_days = 365\n\n[devices.hotfolder]\nfolder = {:?}\n\n[devices.export]\nfolder = {:?}\n",
            floor.hot(),
            floor.export()
        );
        std::fs::write(floor.config(), config).expect("config");
        floor
    }

    fn cardbench(&self, operator: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cardbench"));
        cmd.env("CARDBENCH_DATA_DIR", self.data())
            .env("CARDBENCH_CONFIG", self.config());
        match operator {
            Some(name) => cmd.env("CARDBENCH_OPERATOR", name),
            None => cmd.env_remove("CARDBENCH_OPERATOR"),
        };
        cmd.args(args).output().expect("run cardbench")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.cardbench(None, &all);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: JSON ({e}): {}", text(&out.stdout)))
    }

    fn workflow(&self) -> Workflow {
        Workflow::new(Arc::new(Store::open_in(&self.data()).expect("store")))
    }
}

/// The simulator's request (`cardbench_sim::fixtures`), with the personal data the purge must
/// remove set here (`name` as holder and recipient, `street`, `employee`, a phone shared by
/// every request) and two lanyards.
fn request(card_id: &str, shipment_id: &str, name: &str, street: &str, employee: &str) -> Value {
    let mut body = fixtures::request_json(card_id, shipment_id);
    body["address"]["addressOne"] = json!(street);
    body["address"]["recipient"] = json!(name);
    body["address"]["recipientPhone"] = json!("+46 70 123 45 67");
    body["card"]["cardElements"]["NAME"] = json!(name);
    body["card"]["cardElements"]["EMPLOYEE_NO"] = json!(employee);
    body["accessories"] = json!([{"articleId": "ART-LANYARD", "accessoryId": "LANYARD", "quantity": 2}]);
    body
}

fn ingest(wf: &Workflow, subject: Subject, body: &[u8]) {
    let id = uuid::Uuid::new_v4().to_string();
    let envelope = Envelope {
        message_id: Some(&id),
        subject: Some(subject.as_str()),
        body,
        ..Default::default()
    };
    wf.ingest(&[envelope]).expect("ingest commits");
}

/// A card from request to SHIPPED_OK; returns its parcel.
fn ship_to_ok(
    wf: &Workflow,
    card_id: &str,
    shipment_id: &str,
    name: &str,
    street: &str,
    employee: &str,
    uid: &str,
) -> i64 {
    ingest(
        wf,
        Subject::RequestSent,
        &serde_json::to_vec(&request(card_id, shipment_id, name, street, employee)).expect("json"),
    );
    let produced = wf
        .produce(
            "alice",
            card_id,
            &[ReadoutInput {
                field: "MIFARE_UID".into(),
                value: uid.into(),
            }],
            "typed",
        )
        .expect("produce");
    ingest(
        wf,
        Subject::ReportOk,
        json!({"cardId": card_id, "correlationId": produced.message_id})
            .to_string()
            .as_bytes(),
    );
    let parcel = wf
        .ship(
            "bob",
            &ParcelRequest {
                shipment_id: shipment_id.into(),
                cards: vec![card_id.into()],
                accessories: vec![cardbench_protocol::Accessory {
                    article_id: "ART-LANYARD".into(),
                    accessory_id: "LANYARD".into(),
                    quantity: 2,
                }],
                ..Default::default()
            },
        )
        .expect("ship");
    ingest(
        wf,
        Subject::ShippedOk,
        json!({"shipmentId": shipment_id, "correlationId": parcel.message_id})
            .to_string()
            .as_bytes(),
    );
    parcel.id
}

fn long_ago() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::days(400)
}

fn set_old(path: &Path) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    file.set_modified(SystemTime::now() - Duration::from_secs(400 * 24 * 3600))
        .expect("mtime");
}

/// Every regular file below `dir`, with its bytes.
fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)
            .expect("read dir")
            .filter_map(Result::ok)
        {
            let path = entry.path();
            let kind = entry.file_type().expect("type");
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).expect("read");
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

fn found_in(files: &[(PathBuf, Vec<u8>)], needle: &str) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .map(|(p, _)| p.clone())
        .collect()
}

/// The floor: C-OLD shipped 400 days ago, C-NEW shipped today, C-WAIT not produced, a rejected
/// request 400 days old naming no card; the files each would leave behind.
fn floor_with_history() -> (Floor, i64, i64) {
    let floor = Floor::new(true);
    let wf = floor.workflow();
    let old_parcel = ship_to_ok(
        &wf,
        "C-OLD",
        "S-OLD",
        OLD_NAME,
        OLD_STREET,
        OLD_ELEMENT,
        OLD_UID,
    );
    let new_parcel = ship_to_ok(
        &wf,
        "C-NEW",
        "S-NEW",
        NEW_NAME,
        "Nygatan 2",
        "EMP-1",
        "04FFEE01",
    );
    ingest(
        &wf,
        Subject::RequestSent,
        &serde_json::to_vec(&request(
            "C-WAIT",
            "S-WAIT",
            WAIT_NAME,
            "Väntevägen 3",
            "EMP-2",
        ))
        .expect("json"),
    );
    // Invalid (no cardId), so rejected before any card exists: purged by age alone.
    ingest(
        &wf,
        Subject::RequestSent,
        json!({"address": {"recipient": REJECTED_NAME}})
            .to_string()
            .as_bytes(),
    );

    let long_ago = cardbench_store::time::format(long_ago());
    wf.store()
        .write(|tx| {
            tx.execute(
                "UPDATE cards SET shipped_ok_at = ?1 WHERE card_id = 'C-OLD'",
                [&long_ago],
            )?;
            tx.execute(
                "UPDATE inbox SET received_at = ?1 WHERE card_id IS NULL AND outcome = 'rejected'",
                [&long_ago],
            )?;
            Ok::<_, cardbench_store::StoreError>(())
        })
        .expect("back-date");

    // Files: hot-folder results (processed and failed, with a reason), job exports, slips.
    let processed = floor.hot().join("processed");
    std::fs::write(
        processed.join("old.csv"),
        format!("cardId,UID,NAME\r\nC-OLD,{OLD_UID},{OLD_NAME}\r\n"),
    )
    .expect("write");
    std::fs::write(
        processed.join("wait.csv"),
        format!("cardId,UID,NAME\r\nC-WAIT,04000001,{WAIT_NAME}\r\n"),
    )
    .expect("write");
    std::fs::write(
        floor.hot().join("failed").join("bad.csv"),
        format!("cardId;NAME\nC-OLD;{OLD_NAME}\n"),
    )
    .expect("write");
    std::fs::write(
        floor.hot().join("failed").join("bad.csv.reason.txt"),
        "row 1: C-OLD: no UID column\n",
    )
    .expect("write");
    let export = cardbench_devices::config::ExportConfig {
        columns: vec!["cardId".into(), "cardElements".into()],
        ..Default::default()
    };
    wf.store()
        .read(|c| {
            cardbench_devices::export::export_job(
                c,
                &["C-OLD".into()],
                &export,
                &floor.export(),
                "old",
            )?;
            cardbench_devices::export::export_job(
                c,
                &["C-OLD".into(), "C-WAIT".into()],
                &export,
                &floor.export(),
                "mixed",
            )
        })
        .expect("export jobs");
    let slips = floor.data().join("documents").join("slips");
    std::fs::create_dir_all(&slips).expect("mkdir");
    for parcel in [old_parcel, new_parcel] {
        let config = cardbench_documents::SlipConfig::default();
        cardbench_documents::slip(
            wf.store(),
            &cardbench_documents::SlipTarget::Parcel(parcel),
            &config,
            &slips,
        )
        .expect("slip");
    }
    drop(wf);
    for (path, _) in all_files(floor.root.path()) {
        let name = path.to_string_lossy();
        if !name.ends_with(".sqlite") && !name.contains(".sqlite-") {
            set_old(&path);
        }
    }
    (floor, old_parcel, new_parcel)
}

#[test]
fn a_card_shipped_past_retention_is_unreadable_anywhere_and_the_rest_is_kept() {
    let (floor, old_parcel, new_parcel) = floor_with_history();
    let slip = |parcel: i64, shipment: &str| {
        floor
            .data()
            .join("documents")
            .join("slips")
            .join(format!("slip_{shipment}_{parcel}.pdf"))
    };
    assert!(
        slip(old_parcel, "S-OLD").is_file() && slip(new_parcel, "S-NEW").is_file(),
        "the app's slips were written"
    );
    let before = all_files(floor.root.path());
    for needle in [OLD_NAME, OLD_STREET, OLD_ELEMENT, OLD_UID, REJECTED_NAME] {
        assert!(
            !found_in(&before, needle).is_empty(),
            "{needle} is on disk before the purge (else this test proves nothing)"
        );
    }

    // A dry run lists and counts, and changes nothing.
    let dry = floor.json(&["purge", "--dry-run"]);
    assert_eq!(dry["cardIds"], json!(["C-OLD"]), "{dry}");
    assert_eq!(dry["counts"]["cards"], 1);
    assert_eq!(dry["counts"]["messagesWithoutCard"], 1);
    assert_eq!(
        dry["counts"]["hotFolderFiles"], 3,
        "old.csv, bad.csv and its reason: {dry}"
    );
    assert_eq!(
        dry["counts"]["jobExports"], 1,
        "the job naming C-WAIT too stays: {dry}"
    );
    assert_eq!(
        dry["counts"]["filesRewritten"], 1,
        "…without C-OLD's line: {dry}"
    );
    assert_eq!(dry["counts"]["slips"], 1);
    let text_dry = floor.cardbench(None, &["purge", "--dry-run"]);
    assert!(
        text(&text_dry.stdout).contains("card C-OLD"),
        "{}",
        text(&text_dry.stdout)
    );
    let after_dry = all_files(floor.root.path());
    let db = |files: &[(PathBuf, Vec<u8>)]| {
        files
            .iter()
            .find(|(p, _)| p.ends_with("cardbench.sqlite"))
            .map(|(_, b)| b.clone())
    };
    assert_eq!(
        db(&after_dry),
        db(&before),
        "a dry run leaves the database's bytes as they were"
    );
    for needle in [OLD_NAME, OLD_STREET, OLD_ELEMENT] {
        assert_eq!(
            found_in(&after_dry, needle),
            found_in(&before, needle),
            "a dry run removed {needle} somewhere"
        );
    }

    let neither = floor.cardbench(None, &["purge"]);
    assert_eq!(
        neither.status.code(),
        Some(2),
        "--dry-run or --now must be said"
    );

    let done = floor.json(&["purge", "--now"]);
    assert_eq!(done["cardIds"], json!(["C-OLD"]), "{done}");
    assert_eq!(done["logTruncated"], true, "{done}");

    // Nowhere on disk: database, its log, hot folder, exports, documents.
    let after = all_files(floor.root.path());
    for needle in [
        OLD_NAME,
        OLD_STREET,
        OLD_ELEMENT,
        OLD_UID,
        "+46 70 123 45 67",
        REJECTED_NAME,
    ] {
        let left = found_in(&after, needle);
        // The phone is shared by every request: only C-OLD's copies had to go.
        if needle.starts_with('+') {
            continue;
        }
        assert!(left.is_empty(), "{needle} is still in {left:?}");
    }
    assert!(
        !slip(old_parcel, "S-OLD").exists() && slip(new_parcel, "S-NEW").exists(),
        "only the old parcel's slip went"
    );
    assert!(
        floor.hot().join("processed").join("wait.csv").exists(),
        "a result of a card not produced yet stays"
    );
    let mixed = std::fs::read_dir(floor.export())
        .expect("export dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect::<Vec<_>>();
    assert_eq!(mixed.len(), 1, "{mixed:?}");
    let mixed = std::fs::read_to_string(&mixed[0]).expect("mixed job");
    assert!(
        mixed.starts_with("cardId,") && mixed.contains("C-WAIT") && !mixed.contains("C-OLD"),
        "{mixed}"
    );
    for needle in [NEW_NAME, WAIT_NAME] {
        assert!(
            !found_in(&after, needle).is_empty(),
            "{needle}'s data must be kept: not past retention"
        );
    }

    // Ids, statuses, times, counts and the audit trail stay.
    let card = floor.json(&["cards", "show", "C-OLD"]);
    assert_eq!(card["card"]["status"], "shipped_ok");
    assert_eq!(card["card"]["shipment_id"], "S-OLD");
    assert!(card["card"]["shipped_ok_at"].is_string());
    assert_eq!(card["card"]["request"]["accessories"][0]["quantity"], 2);
    assert_eq!(
        card["card"]["request"]["card"]["cardElements"]["NAME"]
            .as_str()
            .map(|v| v.starts_with("<purged after retention ")),
        Some(true),
        "{card}"
    );
    let shipment = floor.json(&["shipments", "show", "S-OLD"]);
    assert!(shipment.to_string().contains("C-OLD"), "{shipment}");
    let inbox = floor.json(&["inbox", "--card", "C-OLD"]);
    assert_eq!(
        inbox.as_array().map(Vec::len),
        Some(2),
        "the request and its REPORT_OK rows stay: {inbox}"
    );
    let wf = floor.workflow();
    let trail = wf
        .store()
        .read(|c| {
            audit::list(
                c,
                &AuditFilter {
                    card_id: Some("C-OLD".into()),
                    ..Default::default()
                },
            )
        })
        .expect("audit");
    assert!(
        trail
            .iter()
            .any(|a| a.action == "card_produced" || a.action.contains("produce")),
        "the history stays: {trail:?}"
    );
    let purge = trail
        .iter()
        .find(|a| a.action == cardbench_workflow::retention::PURGED)
        .expect("the purge is audited");
    assert_eq!(purge.operator, "retention");
    drop(wf);

    // Purging again finds nothing.
    let again = floor.json(&["purge", "--now"]);
    assert_eq!(again["counts"]["cards"], 0, "{again}");
}

#[test]
fn inbox_raw_masks_the_holder_and_reveal_shows_it_audited_with_the_operator() {
    let floor = Floor::new(true);
    let wf = floor.workflow();
    ingest(
        &wf,
        Subject::RequestSent,
        &serde_json::to_vec(&request("C-1", "S-1", OLD_NAME, OLD_STREET, OLD_ELEMENT))
            .expect("json"),
    );
    drop(wf);
    let rows = floor.json(&["inbox"]);
    let id = rows[0]["id"].to_string();

    let masked = floor.cardbench(None, &["inbox", &id, "--raw"]);
    assert!(masked.status.success(), "{}", text(&masked.stderr));
    let shown = text(&masked.stdout);
    for needle in [OLD_NAME, OLD_STREET, OLD_ELEMENT] {
        assert!(!shown.contains(needle), "{needle} shows: {shown}");
    }
    let body: Value = serde_json::from_str(&shown).expect("the masked body is JSON");
    assert_eq!(body["card"]["cardId"], "C-1");
    for args in [vec!["inbox", &id], vec!["--json", "inbox", &id]] {
        let out = floor.cardbench(None, &args);
        assert!(
            !text(&out.stdout).contains(OLD_NAME),
            "{args:?}: {}",
            text(&out.stdout)
        );
    }

    let nobody = floor.cardbench(None, &["inbox", &id, "--raw", "--reveal"]);
    assert!(
        !nobody.status.success() && !text(&nobody.stdout).contains(OLD_NAME),
        "revealing needs an operator"
    );
    let revealed = floor.cardbench(
        None,
        &[
            "--operator",
            "Support Sam",
            "inbox",
            &id,
            "--raw",
            "--reveal",
        ],
    );
    assert!(revealed.status.success(), "{}", text(&revealed.stderr));
    assert!(
        text(&revealed.stdout).contains(OLD_NAME),
        "{}",
        text(&revealed.stdout)
    );

    let wf = floor.workflow();
    let trail = wf
        .store()
        .read(|c| {
            audit::list(
                c,
                &AuditFilter {
                    card_id: Some("C-1".into()),
                    ..Default::default()
                },
            )
        })
        .expect("audit");
    let reveals: Vec<_> = trail
        .iter()
        .filter(|a| a.action == cardbench_workflow::cardholder::REVEALED)
        .collect();
    assert_eq!(reveals.len(), 1, "one reveal, one audit row: {trail:?}");
    assert_eq!(reveals[0].operator, "Support Sam");
    assert!(
        !reveals[0]
            .details
            .as_ref()
            .map(Value::to_string)
            .unwrap_or_default()
            .contains(OLD_NAME),
        "the audit says what was shown, not the data"
    );
}

#[test]
fn a_masked_holder_name_is_not_found_by_search_and_an_unmasked_one_is() {
    for mask in [true, false] {
        let floor = Floor::new(mask);
        let wf = floor.workflow();
        ingest(
            &wf,
            Subject::RequestSent,
            &serde_json::to_vec(&request("C-1", "S-1", OLD_NAME, OLD_STREET, OLD_ELEMENT))
                .expect("json"),
        );
        drop(wf);
        let count = |search: &str| {
            floor.json(&["cards", "list", "--search", search])["rows"]
                .as_array()
                .map_or(0, Vec::len)
        };
        assert_eq!(count("C-"), 1, "ids are found either way");
        assert_eq!(count("S-1"), 1);
        for name in ["Ingeg", OLD_NAME] {
            assert_eq!(
                count(name),
                usize::from(!mask),
                "mask {mask}: search {name:?}"
            );
        }
        let listed = floor.json(&["cards", "list"]);
        assert_eq!(
            listed.to_string().contains(OLD_NAME),
            !mask,
            "mask {mask}: {listed}"
        );
    }
}
