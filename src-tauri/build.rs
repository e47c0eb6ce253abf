include!("src/command_list.rs");

macro_rules! names {
    ($($c:ident),*) => { &[$(stringify!($c)),*] };
}

fn main() {
    const COMMANDS: &[&str] = with_commands!(names);
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        panic!("tauri-build: {e:#}");
    }
}
