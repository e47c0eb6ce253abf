//! `cardbench-app --bench`: start to first worklist paint, idle RSS, worklist page latency.
//!
//! The webview reports its first worklist paint through the `first_paint` command; the shell then
//! lets the app idle, reads its resident memory, pages through the worklist as the screen does,
//! prints one JSON line on stdout and quits. `cardbench bench` (or CI) can run it on any data dir.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::core::Core;
use crate::dto::WorklistQuery;

pub struct BenchMode(pub bool);

#[derive(Debug, Clone, Serialize)]
pub struct PageLatency {
    pub pages: usize,
    pub rows_per_page: u32,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub cards: i64,
    pub first_paint_ms: f64,
    pub first_paint_rows: u32,
    pub idle_rss_mb: f64,
    pub worklist_page: PageLatency,
    pub worklist_search_page: PageLatency,
    pub goals: &'static str,
}

/// Resident memory of this process in MiB, from /proc (Linux); 0 elsewhere.
pub fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
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
pub fn page_latency(core: &Core, base: WorklistQuery, pages: usize, rows_per_page: u32) -> PageLatency {
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

pub fn first_paint(core: &std::sync::Arc<Core>, app: &tauri::AppHandle, rows: u32) {
    use tauri::Manager;
    let first_paint_ms = core.started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(first_paint_ms, rows, "first worklist paint");
    let bench = app.try_state::<BenchMode>().is_some_and(|b| b.0);
    if !bench {
        return;
    }
    let core = core.clone();
    let app = app.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        let idle_rss_mb = rss_mb();
        let cards = core
            .store()
            .read(|c| c.query_row("SELECT COUNT(*) FROM cards", [], |r| r.get::<_, i64>(0)).map_err(cardbench_store::StoreError::from))
            .unwrap_or(0);
        let report = BenchReport {
            cards,
            first_paint_ms,
            first_paint_rows: rows,
            idle_rss_mb,
            worklist_page: page_latency(&core, WorklistQuery::default(), 300, 100),
            worklist_search_page: page_latency(
                &core,
                WorklistQuery { search: Some("S-0".into()), ..WorklistQuery::default() },
                100,
                100,
            ),
            goals: "first paint <= 1000 ms, idle RSS <= 150 MB, page p95 <= 20 ms",
        };
        match serde_json::to_string(&report) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("cannot print the bench report: {e}"),
        }
        app.exit(0);
    });
}
