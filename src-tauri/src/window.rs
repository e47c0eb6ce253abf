//! The main window follows the workstation's screen: it opens filling the monitor's work area
//! (what the desktop's panels leave free) and maximized, and keeps a minimum size of 1280×720,
//! the smallest the screens are laid out for (less on a monitor smaller than that).

use tauri::{PhysicalPosition, PhysicalSize, Runtime, WebviewWindow};

/// The smallest window the screens are laid out for, in logical pixels.
pub const MIN_SIZE: (f64, f64) = (1280.0, 720.0);

/// Where the window goes, in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    pub position: (i32, i32),
    pub size: (u32, u32),
    pub min_size: (u32, u32),
}

/// The window for a monitor whose work area is at `position` and of `size` (physical pixels) at
/// `scale` physical pixels per logical one: all of the work area, and the minimum size no larger
/// than it.
pub fn fit(position: (i32, i32), size: (u32, u32), scale: f64) -> Fit {
    let scale = if scale.is_finite() && scale > 0.0 { scale } else { 1.0 };
    let min = |logical: f64, available: u32| ((logical * scale).round() as u32).min(available);
    Fit { position, size, min_size: (min(MIN_SIZE.0, size.0), min(MIN_SIZE.1, size.1)) }
}

/// Fits `window` to the monitor it is on (else the primary one). Without a monitor to ask, the
/// window keeps the size tauri.conf.json gives it.
pub fn fit_to_monitor<R: Runtime>(window: &WebviewWindow<R>) -> tauri::Result<()> {
    let monitor = match window.current_monitor()? {
        Some(m) => m,
        None => match window.primary_monitor()? {
            Some(m) => m,
            None => return Ok(()),
        },
    };
    let area = monitor.work_area();
    let f = fit((area.position.x, area.position.y), (area.size.width, area.size.height), monitor.scale_factor());
    if f.size.0 == 0 || f.size.1 == 0 {
        return Ok(());
    }
    tracing::info!(width = f.size.0, height = f.size.1, scale = monitor.scale_factor(), "window fitted to the monitor's work area");
    window.set_min_size(Some(PhysicalSize::new(f.min_size.0, f.min_size.1)))?;
    window.set_position(PhysicalPosition::new(f.position.0, f.position.1))?;
    window.set_size(PhysicalSize::new(f.size.0, f.size.1))?;
    // With a window manager the window is also maximized (its title bar says so; restoring it
    // gives the work-area size above).
    window.maximize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_the_work_area() {
        let f = fit((0, 27), (1920, 1053), 1.0);
        assert_eq!(f, Fit { position: (0, 27), size: (1920, 1053), min_size: (1280, 720) });
    }

    #[test]
    fn the_minimum_is_logical_pixels() {
        assert_eq!(fit((0, 0), (3840, 2160), 2.0).min_size, (2560, 1440));
    }

    #[test]
    fn the_minimum_never_exceeds_a_small_monitor() {
        assert_eq!(fit((0, 0), (1024, 768), 1.0).min_size, (1024, 720));
        assert_eq!(fit((0, 0), (1280, 700), f64::NAN).min_size, (1280, 700));
    }
}
