//! Backends: each reads the IR (after passes) and produces an artefact.

pub mod vitis;

/// Makes any string a legal, non-reserved C identifier.
pub fn c_identifier(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
        out.insert(0, 'm');
    }
    out
}
