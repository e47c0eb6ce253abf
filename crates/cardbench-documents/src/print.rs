//! Sending a PDF to the printer: through CUPS (`lp -d QUEUE FILE`) when a queue is configured,
//! else saving it where the caller said. `lp` is the OS print system on Linux and macOS; it knows
//! the printer's driver, duplex and paper trays, so we don't.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{DocumentError, Result};

/// What became of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printed {
    /// Queued on `printer`; `job` is what `lp` answered (e.g. "request id is Office-42 (1 file(s))").
    Queued { printer: String, job: String },
    Saved(PathBuf),
}

/// Writes `pdf` to `path`, then, if `printer` is given, queues that file with `lp -d printer`.
/// The file is kept either way (a reprint needs it; CUPS may spool it later).
pub fn print_or_save(pdf: &[u8], printer: Option<&str>, path: &Path) -> Result<Printed> {
    // Names and addresses: 0600, in directories made 0700.
    cardbench_store::private_files::write(path, pdf).map_err(DocumentError::io(path))?;
    match printer.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(Printed::Saved(path.to_owned())),
        Some(printer) => send_to_printer(printer, path),
    }
}

/// Runs `lp -d printer file` and reports its error output when it fails.
pub fn send_to_printer(printer: &str, file: &Path) -> Result<Printed> {
    // `--` ends the options: a queue name is config, a file name may start with '-'.
    let out = Command::new("lp").arg("-d").arg(printer).arg("--").arg(file).output().map_err(|e| {
        DocumentError::Print {
            printer: printer.to_owned(),
            detail: if e.kind() == std::io::ErrorKind::NotFound {
                "the `lp` command is not installed (install CUPS, e.g. apt-get install cups-client)".into()
            } else {
                format!("cannot run `lp`: {e}")
            },
        }
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(DocumentError::Print {
            printer: printer.to_owned(),
            detail: if stderr.is_empty() { format!("`lp` exited with {}", out.status) } else { stderr },
        });
    }
    Ok(Printed::Queued { printer: printer.to_owned(), job: String::from_utf8_lossy(&out.stdout).trim().to_owned() })
}
