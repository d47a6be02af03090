//! Names the IR hands to every backend: legal identifiers made from model names.

/// Makes any string a legal C identifier (not starting with a digit; every other character
/// `[A-Za-z0-9_]`).
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
