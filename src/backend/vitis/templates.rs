//! Templates and the hls_lib headers, embedded in the binary so one installed `hlsrs` works from
//! any directory.

/// (template name, source): rendered by tera. Two sets of about the same size, parsed on two
/// threads; a template another includes is in the includer's set (`ports` and `port_pragmas`
/// in both).
pub const SETS: [&[(&str, &str)]; 2] = [FIRMWARE, REST];

const FIRMWARE: &[(&str, &str)] = &[
    (
        "defines.h",
        include_str!("../../../templates/firmware/defines.h.tera"),
    ),
    (
        "parameters.h",
        include_str!("../../../templates/firmware/parameters.h.tera"),
    ),
    (
        "weights.h",
        include_str!("../../../templates/firmware/weights.h.tera"),
    ),
    // The top function's parameter list and its io_parallel port pragmas, shared by top.h
    // and the top functions.
    (
        "ports",
        include_str!("../../../templates/firmware/ports.tera"),
    ),
    (
        "port_pragmas",
        include_str!("../../../templates/firmware/port_pragmas.tera"),
    ),
    (
        "top.h",
        include_str!("../../../templates/firmware/top.h.tera"),
    ),
    (
        "top_stream.cpp",
        include_str!("../../../templates/firmware/top_stream.cpp.tera"),
    ),
];

const REST: &[(&str, &str)] = &[
    (
        "ports",
        include_str!("../../../templates/firmware/ports.tera"),
    ),
    (
        "port_pragmas",
        include_str!("../../../templates/firmware/port_pragmas.tera"),
    ),
    (
        "top.cpp",
        include_str!("../../../templates/firmware/top.cpp.tera"),
    ),
    (
        "test.cpp",
        include_str!("../../../templates/tb/test.cpp.tera"),
    ),
    (
        "build_prj.tcl",
        include_str!("../../../templates/build_prj.tcl.tera"),
    ),
    (
        "vivado_synth.tcl",
        include_str!("../../../templates/vivado_synth.tcl.tera"),
    ),
    (
        "build_opt.tcl",
        include_str!("../../../templates/build_opt.tcl.tera"),
    ),
    (
        "clock.xdc",
        include_str!("../../../templates/clock.xdc.tera"),
    ),
    (
        "hls_config.cfg",
        include_str!("../../../templates/hls_config.cfg.tera"),
    ),
    ("Makefile", include_str!("../../../templates/Makefile.tera")),
];

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
