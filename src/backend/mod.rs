//! Backends: each reads the IR (after passes) and produces an artefact: a project of files with
//! a manifest (`hlsrs.json`) that lists them. What every backend shares lives here; a backend
//! never uses another (tests/layering.rs).

use std::collections::BTreeMap;

pub mod vitis;

/// Relative path -> contents.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The resolved configuration and per-layer facts, also the list of files hlsrs owns.
pub const MANIFEST: &str = "hlsrs.json";

/// The files a project's manifest lists as hlsrs's. The manifest is untrusted (anyone may have
/// edited it): a listed path that is not a plain path inside the project is left out, so
/// nothing is removed, overwritten or judged on its word. None without a readable list.
pub fn listed_files(dir: &std::path::Path) -> Option<std::collections::BTreeSet<String>> {
    // Only the list is read: the rest of the manifest is skipped, not built.
    #[derive(serde::Deserialize)]
    struct Listed {
        files: std::collections::BTreeSet<String>,
    }
    let text = crate::confine::read(&dir.join(MANIFEST)).ok()?;
    serde_json::from_slice::<Listed>(&text).ok().map(|l| {
        l.files
            .into_iter()
            .filter(|f| crate::confine::is_confined(f))
            .collect()
    })
}
