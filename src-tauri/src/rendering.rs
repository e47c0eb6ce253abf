//! The webview's rendering path on Linux, chosen before GTK and WebKit start.
//!
//! On a machine without a GPU (no DRM render node: virtual machines, thin clients, Xvfb) every GL
//! path of GTK 3 and WebKitGTK runs on Mesa's llvmpipe, a CPU emulating a GPU. In the app (UI)
//! process that cost ~58 MB of its ~170 MB resident at idle (smaps: libLLVM-15 43 MB, WebKit's
//! shared-memory frames 8 MB, swrast_dri 6 MB; two llvmpipe threads), for nothing WebKit's own
//! CPU painting does not do. There the app takes the path without GL:
//!
//! - `GDK_GL=disable`: GTK 3 otherwise opens GLX when it opens the display, to pick visuals.
//! - `WEBKIT_DISABLE_DMABUF_RENDERER=1`: the web process paints into shared memory and the UI
//!   process draws that bitmap with cairo, instead of importing GL buffers.
//! - `WEBKIT_WEB_RENDER_DEVICE_FILE`: WebKit otherwise initialises EGL in the UI process only to
//!   ask which DRM device to hand the web process; with no render node the answer is "none"
//!   anyway, and a path that does not exist says so without loading the driver.
//!
//! Where a GPU is present nothing changes. `CARDBENCH_RENDERING=gpu|software|auto` overrides
//! the choice, and a variable already set by the user is never replaced.
//!
//! The variables must be in the environment before GTK starts and before any thread exists, and
//! this crate has no unsafe code (`std::env::set_var` is unsafe), so the process replaces itself
//! once (`exec`, same pid, same arguments) with the variables added.
//!
//! Why and what it costs: `docs/decisions/app-rendering-without-gpu.md`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Overrides the automatic choice: `gpu`, `software` or `auto` (the default).
pub const CHOICE_VAR: &str = "CARDBENCH_RENDERING";
/// When the process was first started, carried over the exec so start-up timings include it
/// (nanoseconds since the Unix epoch). Internal; the bench's baseline run is started without it,
/// and only this program reads it.
pub const STARTED_VAR: &str = "CARDBENCH_STARTED_UNIX_NS";

const SOFTWARE_ENV: [(&str, &str); 3] = [
    ("GDK_GL", "disable"),
    ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
    ("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/dri/no-render-node"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// GTK's and WebKit's defaults (GL where the platform offers it).
    Gpu,
    /// No GL in the UI process; the web process paints with the CPU.
    Software,
}

/// The path taken and why, for the log and the bench.
#[derive(Debug, Clone)]
pub struct Rendering {
    pub path: Path,
    pub why: String,
    /// When the process started (before the exec, if there was one).
    pub started: Instant,
}

impl Rendering {
    pub fn describe(&self) -> String {
        let path = match self.path {
            Path::Gpu => "gpu",
            Path::Software => "software",
        };
        format!("{path}: {}", self.why)
    }
}

fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri")
        .map(|dir| dir.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

fn now_unix_ns() -> Option<u128> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok().map(|d| d.as_nanos())
}

/// The start carried over an exec (`carried`, ns since the epoch), if it is plausible: in the
/// past and within a minute of `now_ns`. Otherwise `now`.
fn started_from(carried: Option<&str>, now_ns: Option<u128>, now: Instant) -> Instant {
    let carried = carried.and_then(|v| v.trim().parse::<u128>().ok());
    match (carried, now_ns) {
        (Some(then), Some(current)) if then <= current && current - then < 60_000_000_000 => {
            let ago = Duration::from_nanos(u64::try_from(current - then).unwrap_or(0));
            now.checked_sub(ago).unwrap_or(now)
        }
        _ => now,
    }
}

/// The path for a `CARDBENCH_RENDERING` value, and why.
fn decide(requested: &str, linux: bool, render_node: impl FnOnce() -> bool) -> (Path, String) {
    match requested.trim().to_ascii_lowercase().as_str() {
        "gpu" => (Path::Gpu, format!("{CHOICE_VAR}=gpu")),
        "software" => (Path::Software, format!("{CHOICE_VAR}=software")),
        _ if !linux => (Path::Gpu, "not Linux".to_owned()),
        _ if render_node() => (Path::Gpu, "a GPU render node is present".to_owned()),
        _ => (Path::Software, "no GPU render node in /dev/dri, GL would run on llvmpipe".to_owned()),
    }
}

/// The software path's variables that are not set yet (`is_set` says which are).
fn missing(is_set: impl Fn(&str) -> bool) -> Vec<(&'static str, &'static str)> {
    SOFTWARE_ENV.iter().copied().filter(|(name, _)| !is_set(name)).collect()
}

/// Chooses the rendering path. Call it first thing in `main`, before any thread starts: when the
/// software path needs variables that are not set yet, this replaces the process (same pid and
/// arguments) and does not return; it returns when nothing needs changing, or when the exec
/// failed (then the defaults stay and `why` says so).
pub fn choose() -> Rendering {
    let started = started_from(std::env::var(STARTED_VAR).ok().as_deref(), now_unix_ns(), Instant::now());
    let requested = std::env::var(CHOICE_VAR).unwrap_or_default();
    let (path, why) = decide(&requested, cfg!(target_os = "linux"), has_render_node);
    if path == Path::Gpu {
        return Rendering { path, why, started };
    }
    let missing = missing(|name| std::env::var_os(name).is_some());
    if missing.is_empty() {
        return Rendering { path, why, started };
    }
    // Only returns if the exec failed: GTK and WebKit then keep their defaults.
    let Err(e) = reexec(&missing);
    Rendering { path: Path::Gpu, why: format!("{why}, but the restart with the settings failed: {e}"), started }
}

#[cfg(unix)]
fn reexec(vars: &[(&str, &str)]) -> Result<std::convert::Infallible, std::io::Error> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()?;
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    command.args(args).envs(vars.iter().copied());
    if let Some(ns) = now_unix_ns().filter(|_| std::env::var_os(STARTED_VAR).is_none()) {
        command.env(STARTED_VAR, ns.to_string());
    }
    // `exec` returns only on failure.
    Err(command.exec())
}

#[cfg(not(unix))]
fn reexec(_vars: &[(&str, &str)]) -> Result<std::convert::Infallible, std::io::Error> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no exec on this platform"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_override_wins_over_the_machine() {
        assert_eq!(decide("gpu", true, || false).0, Path::Gpu);
        assert_eq!(decide(" Software ", true, || true).0, Path::Software);
    }

    #[test]
    fn auto_takes_the_cpu_path_only_without_a_render_node_on_linux() {
        assert_eq!(decide("", true, || false).0, Path::Software);
        assert_eq!(decide("auto", true, || true).0, Path::Gpu);
        assert_eq!(decide("", false, || false).0, Path::Gpu);
    }

    #[test]
    fn variables_already_set_are_kept() {
        let all = missing(|_| false);
        assert_eq!(all.len(), SOFTWARE_ENV.len());
        let rest = missing(|name| name == "GDK_GL");
        assert!(rest.iter().all(|(name, _)| *name != "GDK_GL"));
        assert_eq!(rest.len(), SOFTWARE_ENV.len() - 1);
        // After the exec all are set, so there is never a second one.
        assert!(missing(|_| true).is_empty());
    }

    #[test]
    fn a_plausible_carried_start_moves_the_start_back() {
        let now = Instant::now();
        let now_ns = 1_800_000_000_000_000_000u128;
        let earlier = started_from(Some(&(now_ns - 50_000_000).to_string()), Some(now_ns), now);
        assert_eq!(now.duration_since(earlier), Duration::from_millis(50));
    }

    #[test]
    fn an_implausible_carried_start_is_ignored() {
        let now = Instant::now();
        let now_ns = 1_800_000_000_000_000_000u128;
        for carried in [Some("soon"), Some(&*(now_ns + 1).to_string()), Some(&*(now_ns - 120_000_000_000).to_string()), None] {
            assert_eq!(started_from(carried, Some(now_ns), now), now, "{carried:?}");
        }
    }
}
