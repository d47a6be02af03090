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
const DEFINES: Template = template!("defines.h", "firmware/defines.h.tera");
const WEIGHTS: Template = template!("weights.h", "firmware/weights.h.tera");
const TEST: Template = template!("test.cpp", "tb/test.cpp.tera");
const REST: [Template; 6] = [
    template!("build_prj.tcl", "build_prj.tcl.tera"),
    template!("vivado_synth.tcl", "vivado_synth.tcl.tera"),
    template!("build_opt.tcl", "build_opt.tcl.tera"),
    template!("clock.xdc", "clock.xdc.tera"),
    template!("hls_config.cfg", "hls_config.cfg.tera"),
    template!("Makefile", "Makefile.tera"),
];

/// The templates a project of the given io is rendered from (only its own top function's), in
/// two sets of about the same parsing time: the top function's, with the templates it includes
/// and parameters.h, and the rest. Tera parses about 10 MB/s: these are a fifth of a small
/// model's compile, parsed on a thread of their own and, when it is late, on two.
pub fn sets(stream: bool) -> [Vec<Template>; 2] {
    let top = if stream { TOP_STREAM } else { TOP };
    let mut rest = vec![DEFINES, WEIGHTS, TEST];
    rest.extend(REST);
    [vec![PORTS, PORT_PRAGMAS, TOP_H, top, PARAMETERS], rest]
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
