//! Names of the top function's data ports: the model's input and output names, made legal as C
//! identifiers and as Verilog and VHDL port names, so the RTL's ports carry the names the user
//! knows (`input` and `output`, PyTorch's defaults, are HDL keywords the tool would rename).

use crate::ir::Model;

/// The top function's input and output port names, in the model's input and output order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports {
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

/// The C++ type name of the top function's input or result `k` (`base` "input" or "result"):
/// `input_t` / `result_t` for the first (the only one in most models), `input1_t`, ... after.
pub fn port_type(base: &str, k: usize) -> String {
    numbered(base, k, "t")
}

/// The io_stream pixel type of port `k`: `input_px` / `result_px`, then `input1_px`, ...
pub fn port_pixel(base: &str, k: usize) -> String {
    numbered(base, k, "px")
}

fn numbered(base: &str, k: usize, suffix: &str) -> String {
    if k == 0 {
        format!("{base}_{suffix}")
    } else {
        format!("{base}{k}_{suffix}")
    }
}

/// Words a port may not be named: C++ keywords, Verilog/SystemVerilog and VHDL reserved words
/// (VHDL ignores case, so they are compared in lower case), and the names the generated code
/// itself uses beside the ports.
#[rustfmt::skip]
const RESERVED: &[&str] = &[
    // C++
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
    "case", "catch", "char", "class", "compl", "const", "constexpr", "const_cast", "continue",
    "decltype", "default", "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit",
    "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long",
    "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or",
    "or_eq", "private", "protected", "public", "register", "reinterpret_cast", "return", "short",
    "signed", "sizeof", "static", "static_assert", "static_cast", "struct", "switch", "template",
    "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename", "union",
    "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
    // Verilog / SystemVerilog
    "always", "assign", "begin", "buf", "cell", "cmos", "config", "deassign", "defparam", "design",
    "disable", "edge", "end", "endcase", "endconfig", "endfunction", "endgenerate", "endmodule",
    "endprimitive", "endspecify", "endtable", "endtask", "event", "force", "forever", "fork",
    "function", "generate", "genvar", "highz0", "highz1", "ifnone", "incdir", "include", "initial",
    "inout", "input", "instance", "integer", "join", "large", "liblist", "library", "localparam",
    "logic", "macromodule", "medium", "module", "nand", "negedge", "nmos", "nor",
    "noshowcancelled", "notif0", "notif1", "output", "parameter", "pmos", "posedge", "primitive",
    "pull0", "pull1", "pulldown", "pullup", "rcmos", "real", "realtime", "reg", "release",
    "repeat", "rnmos", "rpmos", "rtran", "rtranif0", "rtranif1", "scalared", "showcancelled",
    "small", "specify", "specparam", "strong0", "strong1", "supply0", "supply1", "table", "task",
    "time", "tran", "tranif0", "tranif1", "tri", "tri0", "tri1", "triand", "trior", "trireg",
    "use", "uwire", "vectored", "wait", "wand", "weak0", "weak1", "wire", "wor", "xnor", "bit",
    "byte", "chandle", "clocking", "interface", "modport", "package", "program", "property",
    "rand", "sequence", "shortint", "string", "type", "var",
    // VHDL
    "abs", "access", "after", "alias", "all", "architecture", "array", "assert", "attribute",
    "block", "body", "buffer", "bus", "component", "configuration", "constant", "disconnect",
    "downto", "elsif", "entity", "exit", "file", "generic", "group", "guarded", "impure", "in",
    "inertial", "is", "label", "linkage", "literal", "loop", "map", "mod", "next", "null", "of",
    "on", "open", "others", "out", "port", "postponed", "procedure", "process", "pure", "range",
    "record", "rem", "reject", "report", "return", "rol", "ror", "select", "severity", "shared",
    "signal", "sla", "sll", "sra", "srl", "subtype", "then", "to", "transport", "units", "until",
    "variable", "when", "with",
    // the generated code's own names beside the ports
    "reset", "input_t", "result_t", "input_px", "result_px",
];

/// `s` as a port name: letters, digits and single underscores, starting with a letter, not
/// ending in an underscore (VHDL's rules, which are the strictest), not reserved, not one of
/// Vitis's block-level names (`ap_*`) or of the layer variables (`layer*`).
fn legal(s: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if !(c == '_' && (out.is_empty() || out.ends_with('_'))) {
            out.push(c);
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        return fallback.to_string();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out = format!("{fallback}_{out}");
    }
    let lower = out.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str())
        || lower.starts_with("ap_")
        || lower.starts_with("layer")
        || lower.starts_with("hlsrs")
    {
        out.push_str("_port");
    }
    out
}

impl Ports {
    /// Port names of `model`'s top function: its inputs' names and its output layers' names,
    /// each distinct from the others and from the function's own name.
    pub fn of(model: &Model) -> Ports {
        let mut taken: Vec<String> = vec![model.name.to_ascii_lowercase()];
        let mut unique = |mut p: String, suffix: &str| {
            if taken.contains(&p.to_ascii_lowercase()) {
                p.push_str(suffix);
            }
            let base = p.clone();
            let mut k = 1;
            while taken.contains(&p.to_ascii_lowercase()) {
                p = format!("{base}_{k}");
                k += 1;
            }
            taken.push(p.to_ascii_lowercase());
            p
        };
        let inputs = model
            .inputs
            .iter()
            .map(|&i| unique(legal(&model.node(i).name, "input"), "_in"))
            .collect();
        let outputs = model
            .outputs
            .iter()
            .map(|o| unique(legal(&model.node(o.node).name, "output"), "_out"))
            .collect();
        Ports { inputs, outputs }
    }
}

#[cfg(test)]
mod tests {
    use super::legal;

    #[test]
    fn names_are_legal_in_c_verilog_and_vhdl() {
        assert_eq!(legal("input", "input"), "input_port");
        assert_eq!(legal("Output", "output"), "Output_port");
        assert_eq!(legal("onnx::Gemm_0", "input"), "onnx_Gemm_0");
        assert_eq!(legal("dense_3/BiasAdd:0", "output"), "dense_3_BiasAdd_0");
        assert_eq!(legal("_x__y_", "input"), "x_y");
        assert_eq!(legal("0", "input"), "input_0");
        assert_eq!(legal("::", "output"), "output");
        assert_eq!(legal("ap_clk", "input"), "ap_clk_port");
        assert_eq!(legal("layer3_out", "output"), "layer3_out_port");
        assert_eq!(legal("jets", "input"), "jets");
    }
}
