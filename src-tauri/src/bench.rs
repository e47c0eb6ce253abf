//! `cardbench-app --bench`: start to first worklist paint, idle memory, worklist page latency.
//!
//! The webview reports its first worklist paint through the `first_paint` command; the shell then
//! lets the app idle for 3 s and reads the memory of this (UI) process and of the WebKit processes
//! it started, pages through the worklist as the screen does, then runs the same bench on a
//! baseline store of a few cards (a second app process, after this one's figures are taken) and
//! prints one JSON line on stdout with both and their ratio, and quits. `cardbench bench` (or CI)
//! can run it on any data dir.
//!
//! What each memory figure covers:
//! - `idle_rss_mb`: VmRSS of this process — the Rust core, GTK, the WebKit UI-process side and
//!   every shared library page it maps (counted in full even when shared with the web process).
//! - `idle_memory.web_process` / `.network_process`: the same for WebKit's web content and network
//!   processes (children of this one); `.other` for any other descendant.
//! - `idle_memory.total_pss_mb`: proportional set size of all of them, so pages shared between
//!   the processes are counted once: what the app costs the machine. It also shrinks when other
//!   programs map the same libraries (the baseline run shares them with this one), so it is
//!   reported, not compared.
//!
//! The ratios compare RSS only: it counts what a process maps, whoever else maps it too.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::station::Station;
use crate::dto::WorklistQuery;
use crate::error::AppError;

/// Held in Tauri state: whether this run is a bench, and what its report needs to say.
pub struct BenchMode {
    pub on: bool,
    /// The rendering path taken and why ([`crate::rendering::Rendering::describe`]).
    pub rendering: String,
    /// Cards in the baseline store (0: no baseline, as in the baseline run itself).
    pub baseline_cards: u64,
    /// Whether the daemon was asked not to run (the baseline run is started the same way).
    pub no_daemon: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageLatency {
    pub pages: usize,
    pub rows_per_page: u32,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// Memory of one process, or the sum over the processes of one kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcessMemory {
    pub processes: u32,
    pub rss_mb: f64,
    pub anon_mb: f64,
    pub file_mb: f64,
    pub shmem_mb: f64,
    pub pss_mb: f64,
    pub threads: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IdleMemory {
    pub app: ProcessMemory,
    pub web_process: ProcessMemory,
    pub network_process: ProcessMemory,
    pub other: ProcessMemory,
    pub total_pss_mb: f64,
}

/// The baseline run's figures (a store of `cards` cards, same machine, same run).
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub cards: i64,
    pub first_paint_ms: f64,
    pub idle_rss_mb: f64,
    pub web_process_rss_mb: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ratios {
    pub idle_rss: f64,
    pub web_process_rss: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The store measured (`--data-dir`): its cards are `cards`.
    pub data_dir: String,
    pub cards: i64,
    pub first_paint_ms: f64,
    pub first_paint_rows: u32,
    /// VmRSS of this (UI) process 3 s after the first worklist paint: the goal's figure.
    pub idle_rss_mb: f64,
    /// What the app costs the machine: PSS of this process and every WebKit process it started
    /// (the goal's figure), beside this process alone.
    pub total_pss_mb: f64,
    pub app_pss_mb: f64,
    pub idle_memory: IdleMemory,
    pub rendering: String,
    pub worklist_page: PageLatency,
    pub worklist_search_page: PageLatency,
    pub baseline: Option<Baseline>,
    pub ratio_to_baseline: Option<Ratios>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_error: Option<String>,
    pub goals: &'static str,
}

const MIB: f64 = 1024.0;

/// `key:   123 kB` lines of a /proc status-like file, in KiB.
fn kib_fields(text: &str) -> HashMap<&str, u64> {
    text.lines()
        .filter_map(|l| {
            let (key, rest) = l.split_once(':')?;
            let value = rest.split_whitespace().next()?.parse::<u64>().ok()?;
            Some((key, value))
        })
        .collect()
}

fn process_memory(pid: u32) -> Option<ProcessMemory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let s = kib_fields(&status);
    let get = |k: &str| s.get(k).copied().unwrap_or(0);
    // smaps_rollup can be refused (another user's process); PSS is then left at 0.
    let pss = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|r| kib_fields(&r).get("Pss").copied())
        .unwrap_or(0);
    Some(ProcessMemory {
        processes: 1,
        rss_mb: get("VmRSS") as f64 / MIB,
        anon_mb: get("RssAnon") as f64 / MIB,
        file_mb: get("RssFile") as f64 / MIB,
        shmem_mb: get("RssShmem") as f64 / MIB,
        pss_mb: pss as f64 / MIB,
        threads: u32::try_from(get("Threads")).unwrap_or(u32::MAX),
    })
}

impl ProcessMemory {
    fn add(&mut self, o: &ProcessMemory) {
        self.processes += o.processes;
        self.rss_mb += o.rss_mb;
        self.anon_mb += o.anon_mb;
        self.file_mb += o.file_mb;
        self.shmem_mb += o.shmem_mb;
        self.pss_mb += o.pss_mb;
        self.threads += o.threads;
    }
}

/// Every process started (directly or not) by this one, from the parent pids in /proc.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    for entry in dir.filter_map(Result::ok) {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last ')'.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut out = Vec::new();
    let mut queue = vec![root];
    while let Some(p) = queue.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
            out.push(c);
            queue.push(c);
        }
    }
    out
}

fn program_name(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .ok()
        .and_then(|c| c.split(|b| *b == 0).next().map(|a| String::from_utf8_lossy(a).into_owned()))
        .map(|a| a.rsplit('/').next().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// This process and its descendants, read now (Linux; zeros elsewhere).
pub fn idle_memory() -> IdleMemory {
    let me = std::process::id();
    let mut m = IdleMemory { app: process_memory(me).unwrap_or_default(), ..IdleMemory::default() };
    for pid in descendants(me) {
        let Some(pm) = process_memory(pid) else { continue };
        match program_name(pid).as_str() {
            "WebKitWebProcess" => m.web_process.add(&pm),
            "WebKitNetworkProcess" => m.network_process.add(&pm),
            _ => m.other.add(&pm),
        }
    }
    m.total_pss_mb = m.app.pss_mb + m.web_process.pss_mb + m.network_process.pss_mb + m.other.pss_mb;
    m
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Pages through the worklist `pages` times (keyset paging, as the screen scrolls), timing each
/// page as the command sees it (query plus mapping).
pub fn page_latency(core: &Station, base: WorklistQuery, pages: usize, rows_per_page: u32) -> PageLatency {
    let mut times = Vec::with_capacity(pages);
    let mut after = None;
    for _ in 0..pages {
        let started = Instant::now();
        let page = core.worklist(WorklistQuery { after: after.clone(), limit: Some(rows_per_page), ..base.clone() });
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        match page {
            Ok(p) => after = p.next,
            Err(e) => {
                tracing::warn!(error = %e, "bench page failed");
                break;
            }
        }
        if after.is_none() {
            after = None;
        }
    }
    times.sort_by(f64::total_cmp);
    PageLatency {
        pages: times.len(),
        rows_per_page,
        p50_ms: percentile(&times, 0.5),
        p95_ms: percentile(&times, 0.95),
        max_ms: times.last().copied().unwrap_or(0.0),
    }
}

fn io(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Io(format!("bench baseline: {what}: {e}"))
}

/// Seeds `cards` received cards into a fresh store in `dir` (the same generator as
/// `cardbench-seed`).
fn seed_baseline(dir: &Path, cards: u64) -> Result<(), AppError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| io("cannot clear the old baseline store", e))?;
    }
    let store = Arc::new(cardbench_store::Store::open_in(dir)?);
    let wf = cardbench_workflow::Workflow::new(store);
    crate::seed::requests(&wf, 100, cards, crate::seed::ORDERED, 20, |_| {})?;
    Ok(())
}

/// Runs this binary's bench on a store of `cards` cards, in its own process, and reads its
/// report. Its daemon (if any) uses the default configuration — embedded queues and the
/// simulator — so the baseline never talks to the configured broker.
fn run_baseline(cards: u64, no_daemon: bool) -> Result<Baseline, AppError> {
    let dir: PathBuf = std::env::temp_dir().join(format!("cardbench-bench-baseline-{}", std::process::id()));
    seed_baseline(&dir, cards)?;
    let result = run_baseline_in(&dir, no_daemon);
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot remove the baseline store");
    }
    result
}

fn run_baseline_in(dir: &Path, no_daemon: bool) -> Result<Baseline, AppError> {
    // A guard against a baseline that never paints, not a measurement.
    const LIMIT: Duration = Duration::from_secs(120);
    let exe = std::env::current_exe().map_err(|e| io("cannot find this program", e))?;
    let mut command = Command::new(exe);
    command
        .arg("--bench")
        .args(["--bench-baseline-cards", "0"])
        .arg("--data-dir")
        .arg(dir)
        .env("CARDBENCH_CONFIG", dir.join("no-config.toml"))
        .env_remove(crate::rendering::STARTED_VAR)
        .env_remove("CARDBENCH_NO_DAEMON")
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    if no_daemon {
        command.arg("--no-daemon");
    }
    let mut child = command.spawn().map_err(|e| io("cannot start", e))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < LIMIT => std::thread::sleep(Duration::from_millis(100)),
            Ok(None) => {
                // Kill errors are moot: the run has failed either way.
                let _ = child.kill();
                let _ = child.wait();
                return Err(io("no report", format!("still running after {} s, stopped", LIMIT.as_secs())));
            }
            Err(e) => return Err(io("cannot wait for it", e)),
        }
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out).map_err(|e| io("cannot read its report", e))?;
    }
    let line = out.lines().rev().find(|l| l.trim_start().starts_with('{'));
    let report: serde_json::Value = match line {
        Some(l) => serde_json::from_str(l).map_err(|e| io("unreadable report", e))?,
        None => return Err(io("no report", format!("it exited with {status}"))),
    };
    let num = |path: &[&str]| -> f64 {
        path.iter().try_fold(&report, |v, k| v.get(k)).and_then(serde_json::Value::as_f64).unwrap_or(0.0)
    };
    Ok(Baseline {
        cards: report.get("cards").and_then(serde_json::Value::as_i64).unwrap_or(0),
        first_paint_ms: num(&["first_paint_ms"]),
        idle_rss_mb: num(&["idle_rss_mb"]),
        web_process_rss_mb: num(&["idle_memory", "web_process", "rss_mb"]),
    })
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

pub fn first_paint(core: &std::sync::Arc<Station>, app: &tauri::AppHandle, rows: u32) {
    use tauri::Manager;
    let first_paint_ms = core.started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(first_paint_ms, rows, "first worklist paint");
    let Some(mode) = app.try_state::<BenchMode>().filter(|b| b.on) else {
        return;
    };
    let rendering = mode.rendering.clone();
    let baseline_cards = mode.baseline_cards;
    let no_daemon = mode.no_daemon;
    let core = core.clone();
    let app = app.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        let idle_memory = idle_memory();
        let cards = core
            .store()
            .read(cardbench_store::dashboard::card_count)
            .unwrap_or(0);
        let worklist_page = page_latency(&core, WorklistQuery::default(), 300, 100);
        let worklist_search_page =
            page_latency(&core, WorklistQuery { search: Some("S-0".into()), ..WorklistQuery::default() }, 100, 100);
        // After this process's figures are taken, so the two runs never overlap in what they measure.
        let (baseline, baseline_error) = if baseline_cards > 0 {
            match run_baseline(baseline_cards, no_daemon) {
                Ok(b) => (Some(b), None),
                Err(e) => {
                    tracing::warn!(error = %e, "bench baseline failed");
                    (None, Some(e.to_string()))
                }
            }
        } else {
            (None, None)
        };
        let ratio_to_baseline = baseline.as_ref().map(|b| Ratios {
            idle_rss: ratio(idle_memory.app.rss_mb, b.idle_rss_mb),
            web_process_rss: ratio(idle_memory.web_process.rss_mb, b.web_process_rss_mb),
        });
        let report = BenchReport {
            data_dir: core.data_dir.display().to_string(),
            cards,
            first_paint_ms,
            first_paint_rows: rows,
            idle_rss_mb: idle_memory.app.rss_mb,
            total_pss_mb: idle_memory.total_pss_mb,
            app_pss_mb: idle_memory.app.pss_mb,
            idle_memory,
            rendering,
            worklist_page,
            worklist_search_page,
            baseline,
            ratio_to_baseline,
            baseline_error,
            goals: "first paint <= 500 ms, total PSS (app and its WebKit processes) <= 200 MB, page p95 <= 20 ms",
        };
        match serde_json::to_string(&report) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("cannot print the bench report: {e}"),
        }
        app.exit(0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_kib() {
        let f = kib_fields("Name:\tx\nVmRSS:\t  115360 kB\nThreads:\t18\nRssAnon:\t26628 kB\n");
        assert_eq!(f.get("VmRSS"), Some(&115_360));
        assert_eq!(f.get("Threads"), Some(&18));
        assert_eq!(f.get("Name"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_and_a_child_are_measured() -> Result<(), std::io::Error> {
        let me = process_memory(std::process::id()).ok_or_else(|| std::io::Error::other("no /proc/self"))?;
        assert!(me.rss_mb > 0.0 && me.threads >= 1, "{me:?}");
        let mut child = Command::new("sleep").arg("30").spawn()?;
        let found = descendants(std::process::id()).contains(&child.id());
        let name = program_name(child.id());
        child.kill()?;
        child.wait()?;
        assert!(found, "the child is among the descendants");
        assert_eq!(name, "sleep");
        Ok(())
    }

    #[test]
    fn the_baseline_store_holds_the_cards_asked_for() -> Result<(), AppError> {
        let dir = tempfile::tempdir().map_err(|e| AppError::Io(e.to_string()))?;
        let store_dir = dir.path().join("baseline");
        seed_baseline(&store_dir, 5)?;
        // Seeding again starts from a fresh store, not on top of the old one.
        seed_baseline(&store_dir, 3)?;
        let store = cardbench_store::Store::open_in(&store_dir)?;
        let n = store.read(cardbench_store::dashboard::card_count)?;
        assert_eq!(n, 3);
        Ok(())
    }

    #[test]
    fn a_ratio_to_nothing_is_zero() {
        assert_eq!(ratio(10.0, 0.0), 0.0);
        assert_eq!(ratio(10.0, 4.0), 2.5);
    }
}
