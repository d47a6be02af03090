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

/// A layer's name with exporter noise removed, so generated C++ and `[layers.X]` keys read as the
/// model's author named things: keras2onnx's `_class__keras_layers_core_Dense__1` and
/// `Conv2D__1` become `dense` and `conv2d` (snake case of the class), a path such as PyTorch's
/// `/fc1/Gemm` or tf2onnx's `sequential/dense_1/MatMul` its layer part (`fc1`, `dense_1`). The
/// frontend numbers repeats (`dense`, `dense_1`, ...) in graph order, so names are unique and
/// stable; other names are kept as they are.
pub fn readable_layer_name(raw: &str) -> String {
    let parts: Vec<&str> = raw.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() >= 2 {
        return parts[parts.len() - 2].to_string();
    }
    let raw = parts.first().copied().unwrap_or(raw);
    // keras2onnx: "_class__<module path>_<Class>__<k>" and "<Class>__<k>".
    let body = raw.trim_end_matches(|c: char| c.is_ascii_digit());
    if let Some(body) = body.strip_suffix("__") {
        let class = match body.strip_prefix("_class__") {
            Some(path) => path.rsplit('_').find(|s| !s.is_empty()).unwrap_or(path),
            None => body,
        };
        if class.starts_with(|c: char| c.is_ascii_uppercase())
            && class.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return snake_case(class);
        }
    }
    raw.to_string()
}

/// A name as it may stand in a comment of every language a project is written in (C++ `//`,
/// Tcl, Makefile and cfg `#`): the characters that could end the comment or change its
/// meaning (a newline, `\` at a line's end continuing it, `*/`, quotes, Tcl's `[ ] $ { } ;`,
/// anything outside printable ASCII) become `_`. The IR keeps the name as the model gave it
/// (`[layers.X]` keys and hlsrs.json use that); only the generated text shows this form.
pub fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.:/+=@(), ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `BatchNormalization` -> `batch_normalization`, `Conv2D` -> `conv2d`.
fn snake_case(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase();
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Whether a name says nothing about the model: a file stem or graph name such as `model`,
/// PyTorch's `main_graph` / `torch-jit-export`, `tf2onnx`, a one-letter name, a hidden folder
/// (`.tmpXyz`) or keras2onnx's hex id.
pub fn is_generic_name(s: &str) -> bool {
    const GENERIC: &[&str] = &[
        "model",
        "models",
        "net",
        "network",
        "graph",
        "main_graph",
        "torch_jit_export",
        "torch-jit-export",
        "torch_jit",
        "tf2onnx",
        "onnx",
        "export",
        "exported",
        "main",
        "sequential",
        "functional",
    ];
    let hex_id = s.len() >= 16 && s.chars().all(|c| c.is_ascii_hexdigit());
    s.len() < 2
        || s.starts_with('.')
        || hex_id
        || GENERIC.contains(&s.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exporter_noise_is_removed_and_other_names_kept() {
        for (raw, clean) in [
            ("_class__keras_layers_core_Dense__", "dense"),
            ("_class__keras_layers_core_Dense__3", "dense"),
            ("_class__keras_layers_core_Flatten__", "flatten"),
            ("Conv2D__", "conv2d"),
            ("Conv1D__2", "conv1d"),
            ("BatchNormalization__1", "batch_normalization"),
            ("/fc1/Gemm", "fc1"),
            ("sequential/dense_1/MatMul", "dense_1"),
            ("fc1", "fc1"),
            ("Relu1", "Relu1"),
            ("Gemm_5", "Gemm_5"),
            ("lstm_8", "lstm_8"),
            ("a__", "a__"),
        ] {
            assert_eq!(readable_layer_name(raw), clean, "{raw}");
        }
    }

    #[test]
    fn comment_text_keeps_nothing_that_ends_a_comment() {
        let hostile = "a\nb\r\\*/\"[x]$y{z};<&>\u{0}\u{e9}\u{2028}#";
        let safe = comment_text(hostile);
        assert_eq!(safe.chars().count(), hostile.chars().count());
        for bad in [
            '\n', '\r', '\\', '*', '"', '[', ']', '$', '{', '}', ';', '<', '>', '&', '\0', '#',
        ] {
            assert!(!safe.contains(bad), "{bad:?} in {safe:?}");
        }
        assert!(safe.is_ascii());
        assert_eq!(comment_text("dense_1/MatMul (fc1)"), "dense_1/MatMul (fc1)");
    }

    #[test]
    fn generic_names() {
        for g in [
            "model",
            "Model",
            "main_graph",
            "torch-jit-export",
            "g",
            ".tmpA1b2",
            "b45ce9ce619f42b8bc7366274a6b9f00",
        ] {
            assert!(is_generic_name(g), "{g}");
        }
        for m in [
            "jet_tagger",
            "three_layer_keras",
            "conv2d_activations",
            "my-model.v2",
        ] {
            assert!(!is_generic_name(m), "{m}");
        }
    }
}
