//! Templates and the hls_lib headers, embedded in the binary so one installed `hlsrs` works from
//! any directory.

/// (template name, source): rendered by tera.
pub type Template = (&'static str, &'static str);

macro_rules! template {
    ($name:literal, $path:literal) => {
        ($name, include_str!(concat!("../../../templates/", $path)))
    };
}

// The top function's parameter list and its io_parallel port pragmas, included by top.h and
// the top functions.
const PORTS: Template = template!("ports", "firmware/ports.tera");
const PORT_PRAGMAS: Template = template!("port_pragmas", "firmware/port_pragmas.tera");
const TOP_H: Template = template!("top.h", "firmware/top.h.tera");
const TOP: Template = template!("top.cpp", "firmware/top.cpp.tera");
const TOP_STREAM: Template = template!("top_stream.cpp", "firmware/top_stream.cpp.tera");
const PARAMETERS: Template = template!("parameters.h", "firmware/parameters.h.tera");
// The fields of a dense product's config struct (a dense layer, a convolution's per-group block,
// a recurrent layer's products): a component parameters.h renders with the product's parameters.
const DENSE_CONFIG: Template = template!("dense_config", "firmware/dense_config.tera");
const DEFINES: Template = template!("defines.h", "firmware/defines.h.tera");
const WEIGHTS: Template = template!("weights.h", "firmware/weights.h.tera");
const TEST: Template = template!("test.cpp", "tb/test.cpp.tera");
const SCRIPTS: [Template; 6] = [
    template!("build_prj.tcl", "build_prj.tcl.tera"),
    template!("vivado_synth.tcl", "vivado_synth.tcl.tera"),
    template!("build_opt.tcl", "build_opt.tcl.tera"),
    template!("clock.xdc", "clock.xdc.tera"),
    template!("hls_config.cfg", "hls_config.cfg.tera"),
    template!("Makefile", "Makefile.tera"),
];

/// The language a set of templates is written in, which decides what a value may hold there
/// (`Language::guard`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// C++ sources and headers.
    Cpp,
    /// Tcl (build scripts, xdc), the v++ cfg and the Makefile: tools that split words at spaces
    /// and substitute `[ ]`, `$` and `{ }`.
    Script,
}

/// The templates a project of the given io is rendered from (only its own top function's), in
/// three sets: the top function's, with the templates it includes and parameters.h; the other
/// C++ files; the build scripts. Tera parses about 10 MB/s: these are a fifth of a small
/// model's compile, parsed on a thread of their own and, when it is late, on this one too.
pub fn sets(stream: bool) -> [(Language, Vec<Template>); 3] {
    let top = if stream { TOP_STREAM } else { TOP };
    [
        (
            Language::Cpp,
            vec![PORTS, PORT_PRAGMAS, TOP_H, top, DENSE_CONFIG, PARAMETERS],
        ),
        (Language::Cpp, vec![DEFINES, WEIGHTS, TEST]),
        (Language::Script, SCRIPTS.to_vec()),
    ]
}

impl Language {
    /// Every value a template writes passes through here (tera's autoescape, on for every
    /// template). A value must be data in the file's language, and it comes already made so:
    /// names as C identifiers, parts by the part grammar (`parts::resolve`), names in comments
    /// through `ir::names::comment_text`, numbers as numbers. So this escapes nothing: a value
    /// holding a character that means something in the language is one that skipped that
    /// validation, and rendering fails (an internal error) rather than write it.
    pub fn guard(self) -> tera::EscapeFn {
        match self {
            Language::Cpp => guard_cpp,
            Language::Script => guard_script,
        }
    }
}

/// In C++ a value stands in a comment, a string literal or as a name or number: a newline or
/// `\\` (which continue a `//` comment), a double quote, `/*` or `*/`, a control or non-ASCII
/// character would end or change it.
fn guard_cpp(value: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let inert = |c: char| (c.is_ascii_graphic() || c == ' ') && !"\"\\`".contains(c);
    if let Some(c) = value.chars().find(|&c| !inert(c)) {
        return Err(refused(c, value, "C++"));
    }
    if value.contains("*/") || value.contains("/*") {
        return Err(refused('*', value, "C++"));
    }
    out.write_all(value.as_bytes())
}

/// In Tcl, cfg and Makefile text a value stands as one word: letters, digits and `_ . - + : / , =
/// % @` only (no space, quote, bracket, brace, `$`, `;`, `#` or `\\`).
fn guard_script(value: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let inert = |c: char| c.is_ascii_alphanumeric() || "_.-+:/,=%@".contains(c);
    if let Some(c) = value.chars().find(|&c| !inert(c)) {
        return Err(refused(c, value, "Tcl, cfg or Makefile"));
    }
    out.write_all(value.as_bytes())
}

/// Any string as one Tcl word that means exactly that string: every character but letters,
/// digits and `/ . _ -` behind a backslash (which makes it literal), control characters as
/// escapes. For the one Tcl text hlsrs writes outside the templates, the vitis-run wrapper,
/// which names the project's path: a path is the user's, and may hold anything.
pub fn tcl_word(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            c if c.is_ascii_alphanumeric() || "/._-".contains(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    if out.is_empty() {
        out.push_str("{}");
    }
    out
}

fn refused(c: char, value: &str, language: &str) -> std::io::Error {
    std::io::Error::other(format!(
        "a template value holds {c:?}, which is not data in {language}: {value:?}"
    ))
}

/// The name of the top function's template.
pub fn top(stream: bool) -> &'static str {
    if stream { TOP_STREAM.0 } else { TOP.0 }
}

/// (file name, contents): copied verbatim into firmware/hls_lib/.
pub const HLS_LIB: &[(&str, &str)] = &[
    ("hlsrs.h", include_str!("../../../hls_lib/hlsrs.h")),
    (
        "hlsrs_common.h",
        include_str!("../../../hls_lib/hlsrs_common.h"),
    ),
    (
        "hlsrs_trace.h",
        include_str!("../../../hls_lib/hlsrs_trace.h"),
    ),
    (
        "hlsrs_dense.h",
        include_str!("../../../hls_lib/hlsrs_dense.h"),
    ),
    (
        "hlsrs_conv.h",
        include_str!("../../../hls_lib/hlsrs_conv.h"),
    ),
    (
        "hlsrs_activation.h",
        include_str!("../../../hls_lib/hlsrs_activation.h"),
    ),
    (
        "hlsrs_softmax.h",
        include_str!("../../../hls_lib/hlsrs_softmax.h"),
    ),
    (
        "hlsrs_elementwise.h",
        include_str!("../../../hls_lib/hlsrs_elementwise.h"),
    ),
    (
        "hlsrs_recurrent.h",
        include_str!("../../../hls_lib/hlsrs_recurrent.h"),
    ),
    (
        "hlsrs_stream.h",
        include_str!("../../../hls_lib/hlsrs_stream.h"),
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_hls_lib_header_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hls_lib");
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(
                super::HLS_LIB.iter().any(|(f, _)| *f == name),
                "hls_lib/{name} is not in HLS_LIB"
            );
        }
    }
}
