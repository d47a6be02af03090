//! `report.html`: one self-contained page (inline CSS, SVG and a few lines of script; nothing
//! fetched at view time) drawn from a project's manifest (`hlsrs.json`) and the vendor reports
//! found beside it. The manifest holds everything the page shows, so `hlsrs compile --report`
//! and `hlsrs report DIR --html` draw the same page from the same record.
//!
//! Sections: the graph (a box per layer with its type, shape, reuse and estimated DSP / LUT /
//! cycles), each layer's type against the values the samples reached (hls4ml's profiling
//! picture: a bar for the type's magnitudes, a box for the values' log2 |v|), weights and
//! biases the same way, estimated resources against the part with latency and II, fixed
//! against float per output, and estimate against the vendor's figures when reports exist.

use super::{Reports, short_number as num};
use crate::ir::FixedType;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;

/// The page for a project: `manifest` is its hlsrs.json, `vendor` the reports found (empty
/// when none were).
pub fn render(manifest: &Value, vendor: &Reports) -> String {
    let name = manifest["name"].as_str().unwrap_or("design");
    let mut body = String::new();
    header(manifest, &mut body);
    summary(manifest, &mut body);
    notes(manifest, &mut body);
    graph(manifest, &mut body);
    precision(manifest, &mut body);
    resources(manifest, &mut body);
    fidelity_table(manifest, &mut body);
    vendor_figures(manifest, vendor, &mut body);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>hlsrs report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}<script>{SCRIPT}</script>\n</body>\n</html>\n",
        esc(name)
    )
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 16px 40px;color:#222}
h1{margin:16px 0 2px}h2{margin:28px 0 8px;border-bottom:1px solid #ccc}
.sub{color:#555}.mono,code{font-family:ui-monospace,monospace;font-size:12px}
table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}
td:first-child,th:first-child{text-align:left}th{background:#f4f4f4}
tr.bad td{background:#fde8e8}.warn{color:#a40000}.ok{color:#126312}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:220px}
.card b{font-size:18px}ul.notes li{margin:2px 0}
svg text{font-family:ui-monospace,monospace;font-size:11px}
.sel rect.box,.sel{outline:3px solid #f0a000}tr.sel td{background:#fff2cc}
[data-layer]{cursor:pointer}
";

/// Clicking a layer anywhere marks it everywhere (graph, plots, tables). The count of hooked
/// elements on the body shows the script ran to its end (the browser test reads it).
const SCRIPT: &str = "
var hooked = 0;
document.querySelectorAll('[data-layer]').forEach(function (el) {
  el.addEventListener('click', function () {
    var name = el.getAttribute('data-layer');
    document.querySelectorAll('[data-layer]').forEach(function (other) {
      other.classList.toggle('sel', other.getAttribute('data-layer') === name);
    });
  });
  hooked += 1;
});
document.body.setAttribute('data-hooked', String(hooked));
";

/// Text for HTML and SVG.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters, the last an ellipsis when cut (the full text is in the tooltip).
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        s.chars().take(n - 1).chain(['…']).collect()
    } else {
        s.to_string()
    }
}

/// A count in few characters (4656 -> 4.7k).
fn compact(v: u64) -> String {
    match v {
        0..=9_999 => v.to_string(),
        10_000..=999_999 => format!("{:.1}k", v as f64 / 1e3),
        _ => format!("{:.2}M", v as f64 / 1e6),
    }
}

/// A number from the manifest, as text; anything else (the manifest is untrusted: a string
/// there would reach the page as markup) is a dash.
fn number(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        _ => "-".into(),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], |a| a.as_slice())
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn shape(v: &Value) -> String {
    let dims: Vec<String> = arr(v).iter().map(number).collect();
    if dims.is_empty() {
        "-".into()
    } else {
        dims.join("×")
    }
}

/// Records of `list` by their `key`.
fn by<'a>(list: &'a Value, key: &str) -> HashMap<&'a str, &'a Value> {
    arr(list).iter().map(|v| (text(&v[key]), v)).collect()
}

const RESOURCES: [(&str, &str); 5] = [
    ("dsp", "DSP"),
    ("lut", "LUT"),
    ("ff", "FF"),
    ("bram_18k", "BRAM_18K"),
    ("uram", "URAM"),
];

fn header(m: &Value, out: &mut String) {
    let c = &m["config"];
    let _ = write!(
        out,
        "<h1>{}</h1>\n<p class=\"sub\">{} at {} ns · io_{} · precision <code>{}</code> · reuse {} · strategy {} · hlsrs {}</p>\n",
        esc(text(&m["name"])),
        esc(text(&m["part"]["full"])),
        number(&m["clock_ns"]),
        esc(text(&m["io"])),
        esc(text(&c["precision"])),
        number(&c["reuse"]),
        esc(text(&c["strategy"])),
        esc(text(&m["hlsrs"]))
    );
    out.push_str("<p class=\"sub\">");
    for (id, title) in [
        ("graph", "graph"),
        ("precision", "types against values"),
        ("resources", "resources and latency"),
        ("fidelity", "fixed against float"),
        ("vendor", "estimate against the vendor tools"),
    ] {
        let _ = write!(out, "<a href=\"#{id}\">{title}</a> · ");
    }
    out.push_str("</p>\n");
}

/// A bar of `frac` (0..) of `width` pixels; red beyond 1.
fn bar(frac: f64, width: f64, label: &str) -> String {
    let w = (frac.clamp(0.0, 1.0) * width).max(if frac > 0.0 { 1.0 } else { 0.0 });
    let color = if frac > 1.0 { "#c62828" } else { "#4a7fc1" };
    format!(
        "<svg width=\"{width}\" height=\"14\" role=\"img\"><title>{}</title><rect width=\"{width}\" height=\"14\" fill=\"#eee\"/><rect width=\"{w:.1}\" height=\"14\" fill=\"{color}\"/></svg>",
        esc(label)
    )
}

fn summary(m: &Value, out: &mut String) {
    let e = &m["estimate"];
    out.push_str("<div class=\"cards\">\n<div class=\"card\"><div>estimated resources against the part</div><table>\n");
    for (key, label) in RESOURCES {
        let used = e["total"][key].as_u64().unwrap_or(0);
        let avail = m["part"][key].as_u64().unwrap_or(0);
        let frac = if avail > 0 {
            used as f64 / avail as f64
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "<tr><td>{label}</td><td>{used}</td><td>{}</td><td class=\"{}\">{:.1}%</td></tr>",
            bar(
                frac,
                160.0,
                &format!("{used} of {avail} {label} ({:.2}%)", 100.0 * frac)
            ),
            if frac > 1.0 { "warn" } else { "" },
            100.0 * frac
        );
    }
    out.push_str("</table></div>\n");
    let _ = write!(
        out,
        "<div class=\"card\"><div>latency</div><b>{} cycles</b> = {} ns<br>initiation interval <b>{}</b> cycles",
        number(&e["latency_cycles"]),
        number(&e["latency_ns"]),
        number(&e["ii"])
    );
    let outs = arr(&e["outputs"]);
    if outs.len() > 1 {
        for o in outs {
            let _ = write!(
                out,
                "<br>output {}: {} cycles",
                esc(text(&o["name"])),
                number(&o["latency_cycles"])
            );
        }
    }
    out.push_str("</div>\n");
    let f = &m["fidelity"];
    if f.is_object() {
        let _ = write!(
            out,
            "<div class=\"card\"><div>fixed against float on the {}</div>",
            esc(text(&f["samples"]))
        );
        for o in arr(&f["outputs"]) {
            let rows = o["rows"].as_u64().unwrap_or(0).max(1);
            let _ = write!(out, "output <b>{}</b>: ", esc(text(&o["name"])));
            if let Some(a) = o["argmax_agree"].as_u64() {
                let pct = 100.0 * a as f64 / rows as f64;
                let _ = write!(
                    out,
                    "argmax agrees on <b class=\"{}\">{pct:.1}%</b> ({a} of {rows}) ",
                    if pct < 99.0 { "warn" } else { "ok" }
                );
            }
            let _ = write!(
                out,
                "max |fixed − float| {}, mean {}<br>",
                num(o["max_error"].as_f64().unwrap_or(0.0)),
                num(o["mean_error"].as_f64().unwrap_or(0.0))
            );
        }
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n");
}

fn notes(m: &Value, out: &mut String) {
    let notes = arr(&m["notes"]);
    if notes.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"notes\">Warnings and notes</h2>\n<ul class=\"notes\">\n");
    for n in notes {
        let t = text(n);
        let _ = writeln!(
            out,
            "<li class=\"{}\">{}</li>",
            if t.starts_with("warning") { "warn" } else { "" },
            esc(t)
        );
    }
    out.push_str("</ul>\n");
}

/// Whether the layer's record in the fidelity measure shows a wrap (or float values beyond a
/// wrapping type, hidden in fixed point by a wrap before it).
fn wraps(f: &Value) -> bool {
    let wrapping_type = FixedType::parse(text(&f["result"]))
        .is_ok_and(|t| t.overflow == crate::ir::fixed::Overflow::Wrap);
    arr(&f["overflows"]).iter().any(|o| o["wrapped"] == true)
        || (wrapping_type && f["float_outside"].as_u64().unwrap_or(0) > 0)
}

/// Box fill by what a layer does.
fn fill(op: &str) -> &'static str {
    match op {
        "input" => "#ffffff",
        "dense" | "conv" | "lstm" | "gru" | "rnn" => "#dbe8f7",
        "softmax" | "argmax" => "#eadcf5",
        "max_pool" | "average_pool" | "avg_pool" => "#fbf1cc",
        "transpose" | "reshape" | "concat" | "gather" | "copy" => "#eeeeee",
        _ => "#e0f2e0",
    }
}

/// One box of the graph.
struct GraphNode {
    name: String,
    lines: [String; 4],
    tooltip: String,
    op: String,
    inputs: Vec<String>,
    bad: bool,
}

fn graph(m: &Value, out: &mut String) {
    let est = by(&m["estimate"]["layers"], "name");
    let fid = by(&m["fidelity"]["layers"], "name");
    let mut nodes: Vec<GraphNode> = Vec::new();
    let cost = |name: &str| {
        est.get(name).map_or(String::new(), |e| {
            format!(
                "DSP {} · LUT {} · {} cyc",
                compact(e["cost"]["dsp"].as_u64().unwrap_or(0)),
                compact(e["cost"]["lut"].as_u64().unwrap_or(0)),
                number(&e["latency_cycles"])
            )
        })
    };
    for i in arr(&m["inputs"]) {
        let layer = text(&i["layer"]).to_string();
        nodes.push(GraphNode {
            lines: [
                layer.clone(),
                format!("input · {}", shape(&i["shape"])),
                text(&i["type"]).to_string(),
                format!("port {}", text(&i["name"])),
            ],
            tooltip: format!(
                "input {} [{}] {}",
                layer,
                shape(&i["shape"]),
                text(&i["type"])
            ),
            name: layer,
            op: "input".into(),
            inputs: Vec::new(),
            bad: fid.get(text(&i["layer"])).is_some_and(|f| wraps(f)),
        });
    }
    for l in arr(&m["layers"]) {
        let name = text(&l["name"]).to_string();
        let op = text(&l["op"]).to_string();
        let result = text(&l["types"]["result"]);
        let reuse = l["reuse"]
            .as_u64()
            .map_or(String::new(), |r| format!("R{r} · "));
        let mut tooltip = format!("{name}: {op} [{}]", shape(&l["shape"]));
        if let Some(types) = l["types"].as_object() {
            for (k, t) in types {
                let _ = write!(tooltip, "\n{k}: {}", text(t));
            }
        }
        if let Some(f) = fid.get(name.as_str()) {
            let _ = write!(
                tooltip,
                "\nfloat values in [{}, {}]; max |fixed - float| {}",
                num(f["float_min"].as_f64().unwrap_or(0.0)),
                num(f["float_max"].as_f64().unwrap_or(0.0)),
                num(f["max_error"].as_f64().unwrap_or(0.0))
            );
            for o in arr(&f["overflows"]) {
                let _ = write!(
                    tooltip,
                    "\n{} values {} in {}",
                    number(&o["count"]),
                    if o["wrapped"] == true {
                        "wrapped"
                    } else {
                        "saturated"
                    },
                    text(&o["type"])
                );
            }
        }
        nodes.push(GraphNode {
            lines: [
                name.clone(),
                format!("{op} · {}", shape(&l["shape"])),
                result.to_string(),
                format!("{reuse}{}", cost(&name)),
            ],
            tooltip,
            bad: fid.get(name.as_str()).is_some_and(|f| wraps(f)),
            name,
            op,
            inputs: arr(&l["inputs"])
                .iter()
                .map(|v| text(v).to_string())
                .collect(),
        });
    }
    // Rows by depth (longest path from an input); the manifest lists layers in topological
    // order, so every input of a layer has its depth already.
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut rows: Vec<Vec<usize>> = Vec::new();
    for (k, n) in nodes.iter().enumerate() {
        let d = n
            .inputs
            .iter()
            .filter_map(|i| depth.get(i.as_str()))
            .map(|d| d + 1)
            .max()
            .unwrap_or(0);
        depth.insert(&n.name, d);
        if rows.len() <= d {
            rows.resize(d + 1, Vec::new());
        }
        rows[d].push(k);
    }
    let (bw, bh, gx, gy) = (250.0, 72.0, 24.0, 34.0);
    let widest = rows.iter().map(Vec::len).max().unwrap_or(1) as f64;
    // Room on the right for edges that skip rows (residual connections).
    let width = widest * (bw + gx) + gx + 90.0;
    let height = rows.len() as f64 * (bh + gy) + gy;
    let mut at: HashMap<&str, (f64, f64)> = HashMap::new();
    for (r, row) in rows.iter().enumerate() {
        let left = (width - 90.0 - row.len() as f64 * (bw + gx) + gx) / 2.0;
        for (c, &k) in row.iter().enumerate() {
            at.insert(
                &nodes[k].name,
                (left + c as f64 * (bw + gx), gy + r as f64 * (bh + gy)),
            );
        }
    }
    let _ = write!(
        out,
        "<h2 id=\"graph\">Graph</h2>\n<p class=\"sub\">Each box: name, op and shape, result type, reuse factor and the estimate's DSP, LUT and latency. Red: values wrapped on the samples. Hover for every type; click to mark a layer on every view.</p>\n<svg class=\"graph\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#777\"/></marker></defs>\n"
    );
    for n in &nodes {
        let Some(&(x2, y2)) = at.get(n.name.as_str()) else {
            continue;
        };
        for i in &n.inputs {
            let Some(&(x1, y1)) = at.get(i.as_str()) else {
                continue;
            };
            if y2 - y1 > bh + gy + 1.0 && (x1 - x2).abs() < bw {
                // A row skipped in the same column would run behind the boxes between: bow
                // out to the right, further the more rows it skips.
                let (ax, ay, by) = (x1 + bw, y1 + bh / 2.0, y2 + bh / 2.0);
                let bulge = ax + 30.0 + ((y2 - y1) / (bh + gy)).min(6.0) * 8.0;
                let _ = writeln!(
                    out,
                    "<path d=\"M{ax:.1},{ay:.1} C{bulge:.1},{ay:.1} {bulge:.1},{by:.1} {:.1},{by:.1}\" fill=\"none\" stroke=\"#777\" marker-end=\"url(#arrow)\"/>",
                    x2 + bw
                );
                continue;
            }
            let (ax, ay, bx, by) = (x1 + bw / 2.0, y1 + bh, x2 + bw / 2.0, y2);
            let _ = writeln!(
                out,
                "<path d=\"M{ax:.1},{ay:.1} C{ax:.1},{:.1} {bx:.1},{:.1} {bx:.1},{by:.1}\" fill=\"none\" stroke=\"#777\" marker-end=\"url(#arrow)\"/>",
                ay + gy / 2.0,
                by - gy / 2.0
            );
        }
    }
    for n in &nodes {
        let (x, y) = at[n.name.as_str()];
        let _ = write!(
            out,
            "<g data-layer=\"{}\" transform=\"translate({x:.1},{y:.1})\"><title>{}</title><rect class=\"box\" width=\"{bw}\" height=\"{bh}\" rx=\"5\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
            esc(&n.name),
            esc(&n.tooltip),
            fill(&n.op),
            if n.bad { "#c62828" } else { "#666" },
            if n.bad { 3 } else { 1 }
        );
        for (k, line) in n.lines.iter().enumerate() {
            let shown = clip(line, 36);
            let _ = write!(
                out,
                "<text x=\"8\" y=\"{}\"{}>{}</text>",
                16 + 16 * k,
                if k == 0 { " font-weight=\"bold\"" } else { "" },
                esc(&shown)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
}

/// Where the values lie on a log2 axis: (smallest, 25%, median, 75%, largest) exponents,
/// interpolated within the histogram's unit bins; `None` when every value was zero.
fn quartiles(magnitudes: &Value, largest: f64) -> Option<[f64; 5]> {
    let bins: Vec<(f64, f64)> = arr(&magnitudes["log2"])
        .iter()
        .filter_map(|b| Some((b[0].as_f64()?, b[1].as_f64()?)))
        .collect();
    let total: f64 = bins.iter().map(|b| b.1).sum();
    if total == 0.0 {
        return None;
    }
    let at = |q: f64| {
        let want = q * total;
        let mut seen = 0.0;
        for &(e, n) in &bins {
            if seen + n >= want {
                return e + ((want - seen) / n).clamp(0.0, 1.0);
            }
            seen += n;
        }
        bins[bins.len() - 1].0 + 1.0
    };
    let top = if largest > 0.0 {
        largest.log2()
    } else {
        bins[bins.len() - 1].0 + 1.0
    };
    Some([bins[0].0, at(0.25), at(0.5), at(0.75), top])
}

/// One row of a precision plot.
struct RangeRow {
    layer: String,
    label: String,
    ty: Option<FixedType>,
    spread: Option<[f64; 5]>,
    note: String,
    bad: bool,
    tooltip: String,
}

/// A plot of rows: per row a grey bar over the magnitudes the type holds (from its step to its
/// largest value) and a box plot of log2 |v| of the values; red where values lie beyond it.
fn range_plot(rows: &[RangeRow], out: &mut String) {
    if rows.is_empty() {
        out.push_str("<p class=\"sub\">none</p>\n");
        return;
    }
    // The axis spans the types and the values, but values far below every type's step (they
    // round to zero: a softmax's tail) are drawn at the left edge rather than stretching it.
    let (mut lo, mut hi, mut steps) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY);
    for r in rows {
        if let Some(t) = r.ty {
            steps = steps.min(t.lsb().log2());
            hi = hi.max(t.max_value().max(-t.min_value()).log2());
        }
        if let Some(s) = r.spread {
            lo = lo.min(s[0]);
            hi = hi.max(s[4]);
        }
    }
    if steps.is_finite() {
        lo = lo.max(steps - 6.0).min(steps);
    }
    if !(lo.is_finite() && hi.is_finite()) {
        (lo, hi) = (-8.0, 8.0);
    }
    let (lo, hi) = (lo.max(-64.0).floor() - 1.0, hi.min(64.0).ceil() + 1.0);
    let (label_w, plot_w, note_w, row_h, top) = (230.0, 560.0, 330.0, 20.0, 24.0);
    let x = |e: f64| label_w + (e.clamp(lo, hi) - lo) / (hi - lo) * plot_w;
    let height = top + rows.len() as f64 * row_h + 8.0;
    let width = label_w + plot_w + note_w;
    let _ = writeln!(
        out,
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    // The axis: powers of two, a grid line every few.
    let step = ((hi - lo) / 12.0).ceil().max(1.0) as i64;
    let mut e = lo as i64;
    while e as f64 <= hi {
        if e % step == 0 {
            let _ = writeln!(
                out,
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1}\" y2=\"{height}\" stroke=\"#e4e4e4\"/><text x=\"{0:.1}\" y=\"14\" text-anchor=\"middle\">2^{e}</text>",
                x(e as f64),
                top - 6.0
            );
        }
        e += 1;
    }
    for (k, r) in rows.iter().enumerate() {
        let y = top + k as f64 * row_h;
        let mid = y + row_h / 2.0;
        let _ = write!(
            out,
            "<g data-layer=\"{}\"><title>{}</title><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            esc(&r.layer),
            esc(&r.tooltip),
            label_w - 8.0,
            mid + 4.0,
            esc(&clip(&r.label, 32))
        );
        if let Some(t) = r.ty {
            let (a, b) = (
                x(t.lsb().log2()),
                x(t.max_value().max(-t.min_value()).log2()),
            );
            let _ = write!(
                out,
                "<rect x=\"{a:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#d0d0d0\"/>",
                y + 3.0,
                (b - a).max(1.0),
                row_h - 6.0
            );
        }
        if let Some(s) = r.spread {
            let color = if r.bad { "#c62828" } else { "#2f5f9e" };
            let _ = write!(
                out,
                "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{mid:.1}\" y2=\"{mid:.1}\" stroke=\"{color}\"/><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\" fill-opacity=\"0.55\" stroke=\"{color}\"/><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#fff\" stroke-width=\"2\"/>",
                x(s[0]),
                x(s[4]),
                x(s[1]),
                y + 6.0,
                (x(s[3]) - x(s[1])).max(1.5),
                row_h - 12.0,
                x(s[2]),
                x(s[2]),
                y + 6.0,
                y + row_h - 6.0
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{:.1}\"{}>{}</text></g>",
            label_w + plot_w + 8.0,
            mid + 4.0,
            if r.bad { " fill=\"#c62828\"" } else { "" },
            esc(&r.note)
        );
    }
    out.push_str("</svg>\n");
}

fn precision(m: &Value, out: &mut String) {
    out.push_str("<h2 id=\"precision\">Types against values</h2>\n");
    let f = &m["fidelity"];
    if !f.is_object() {
        out.push_str("<p class=\"sub\">This manifest has no fidelity record (compiled by an older hlsrs).</p>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<p class=\"sub\">Per layer, log2 of |value|: the grey bar is what the result type holds (from one step to its largest value), the box the float model's values on the {} (whiskers: smallest and largest nonzero, box: middle half, white: median). A box reaching past the bar overflows; one left of it rounds to zero. Red: values wrapped or beyond a wrapping type.</p>",
        esc(text(&f["samples"]))
    );
    let rows: Vec<RangeRow> = arr(&f["layers"])
        .iter()
        .map(|l| {
            let name = text(&l["name"]);
            let (fmin, fmax) = (
                l["float_min"].as_f64().unwrap_or(0.0),
                l["float_max"].as_f64().unwrap_or(0.0),
            );
            let mut note = text(&l["result"]).to_string();
            for o in arr(&l["overflows"]) {
                let _ = write!(
                    note,
                    " · {} {}",
                    number(&o["count"]),
                    if o["wrapped"] == true {
                        "wrapped"
                    } else {
                        "saturated"
                    }
                );
            }
            let outside = l["float_outside"].as_u64().unwrap_or(0);
            if outside > 0 && arr(&l["overflows"]).is_empty() {
                let _ = write!(note, " · {outside} beyond (float)");
            }
            RangeRow {
                layer: name.to_string(),
                label: name.to_string(),
                ty: FixedType::parse(text(&l["result"])).ok(),
                spread: quartiles(&l["magnitudes"], fmin.abs().max(fmax.abs())),
                bad: wraps(l),
                tooltip: format!(
                    "{name}: {} values in [{}, {}], {} zero; type {} (holds [{}, {}] in steps of {}); a type holding them: {}",
                    number(&l["values"]),
                    num(fmin),
                    num(fmax),
                    number(&l["magnitudes"]["zeros"]),
                    text(&l["result"]),
                    FixedType::parse(text(&l["result"])).map_or(String::new(), |t| num(t.min_value())),
                    FixedType::parse(text(&l["result"])).map_or(String::new(), |t| num(t.max_value())),
                    FixedType::parse(text(&l["result"])).map_or(String::new(), |t| num(t.lsb())),
                    text(&l["holding_type"])
                ),
                note,
            }
        })
        .collect();
    out.push_str("<h3>Layer results</h3>\n");
    range_plot(&rows, out);
    let consts: Vec<RangeRow> = arr(&f["constants"])
        .iter()
        .map(|c| {
            let layer = text(&c["layer"]);
            let (fmin, fmax) = (
                c["float_min"].as_f64().unwrap_or(0.0),
                c["float_max"].as_f64().unwrap_or(0.0),
            );
            let (vanished, saturated) = (
                c["vanished"].as_u64().unwrap_or(0),
                c["saturated"].as_u64().unwrap_or(0),
            );
            let mut note = text(&c["type"]).to_string();
            if vanished > 0 {
                let _ = write!(note, " · {vanished} round to 0");
            }
            if saturated > 0 {
                let _ = write!(note, " · {saturated} saturated");
            }
            RangeRow {
                layer: layer.to_string(),
                label: format!("{layer} {}", text(&c["role"])),
                ty: FixedType::parse(text(&c["type"])).ok(),
                spread: quartiles(&c["magnitudes"], fmin.abs().max(fmax.abs())),
                // Saturated, or every nonzero constant gone.
                bad: saturated > 0
                    || (vanished > 0
                        && vanished
                            == c["count"]
                                .as_u64()
                                .unwrap_or(0)
                                .saturating_sub(c["magnitudes"]["zeros"].as_u64().unwrap_or(0))),
                tooltip: format!(
                    "{layer} {}: {} values in [{}, {}], {} exactly zero; {vanished} nonzero ones round to zero and {saturated} saturate in {}",
                    text(&c["role"]),
                    number(&c["count"]),
                    num(fmin),
                    num(fmax),
                    number(&c["magnitudes"]["zeros"]),
                    text(&c["type"])
                ),
                note,
            }
        })
        .collect();
    out.push_str("<h3>Weights and biases</h3>\n");
    range_plot(&consts, out);
}

fn resources(m: &Value, out: &mut String) {
    let e = &m["estimate"];
    let layers = by(&m["layers"], "name");
    let part = &m["part"];
    let max_of = |key: &str| {
        arr(&e["layers"])
            .iter()
            .map(|l| l["cost"][key].as_u64().unwrap_or(0))
            .max()
            .unwrap_or(0)
            .max(1) as f64
    };
    let (max_dsp, max_lut) = (max_of("dsp"), max_of("lut"));
    let _ = writeln!(
        out,
        "<h2 id=\"resources\">Resources and latency per layer (estimate)</h2>\n<p class=\"sub\">Bars are scaled to the largest layer; beside them each layer's share of the {}. Design: latency {} cycles ({} ns), II {}.</p>",
        esc(text(&part["full"])),
        number(&e["latency_cycles"]),
        number(&e["latency_ns"]),
        number(&e["ii"])
    );
    out.push_str("<table>\n<tr><th>layer</th><th>op</th><th>reuse</th><th>strategy</th><th>DSP</th><th>of the part</th><th>LUT</th><th>of the part</th><th>FF</th><th>BRAM_18K</th><th>URAM</th><th>cycles</th><th>II</th></tr>\n");
    // A bar scaled to the largest layer, and the share of the part beside it.
    let cell = |v: u64, key: &str, largest: f64| {
        let avail = part[key].as_u64().unwrap_or(0);
        let pct = if avail == 0 {
            "-".to_string()
        } else {
            format!("{:.2}%", 100.0 * v as f64 / avail as f64)
        };
        format!(
            "{} <span class=\"sub\">{pct}</span>",
            bar(v as f64 / largest, 120.0, &format!("{pct} of the part"))
        )
    };
    for l in arr(&e["layers"]) {
        let name = text(&l["name"]);
        let c = &l["cost"];
        let g = |k: &str| c[k].as_u64().unwrap_or(0);
        let manifest = layers.get(name);
        let field = |k: &str| {
            manifest.map_or(String::new(), |v| match &v[k] {
                Value::Null => String::new(),
                Value::String(s) => esc(s),
                // The manifest is untrusted: an array or object here may hold markup too.
                other => esc(&other.to_string()),
            })
        };
        let _ = writeln!(
            out,
            "<tr data-layer=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            esc(name),
            esc(text(&l["kind"])),
            field("reuse"),
            field("strategy"),
            g("dsp"),
            cell(g("dsp"), "dsp", max_dsp),
            g("lut"),
            cell(g("lut"), "lut", max_lut),
            g("ff"),
            g("bram_18k"),
            g("uram"),
            number(&l["latency_cycles"]),
            number(&l["ii"])
        );
    }
    let t = &e["total"];
    let _ = writeln!(
        out,
        "<tr><th>total</th><th></th><th></th><th></th><th>{}</th><th></th><th>{}</th><th></th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n</table>",
        number(&t["dsp"]),
        number(&t["lut"]),
        number(&t["ff"]),
        number(&t["bram_18k"]),
        number(&t["uram"]),
        number(&e["latency_cycles"]),
        number(&e["ii"])
    );
}

fn fidelity_table(m: &Value, out: &mut String) {
    let f = &m["fidelity"];
    out.push_str("<h2 id=\"fidelity\">Fixed against float per layer</h2>\n");
    if !f.is_object() {
        out.push_str("<p class=\"sub\">Not recorded.</p>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<p class=\"sub\">On the {} ({} samples; your own: <code>--tb-input X</code> or <code>--calib X</code>).</p>\n<table>\n<tr><th>layer</th><th>result type</th><th>float min</th><th>float max</th><th>max |fixed − float|</th><th>in steps</th><th>wrapped</th><th>saturated</th><th>float beyond the type</th><th>type holding them</th></tr>",
        esc(text(&f["samples"])),
        number(&f["count"])
    );
    for l in arr(&f["layers"]) {
        let name = text(&l["name"]);
        let (mut wrapped, mut saturated) = (0, 0);
        for o in arr(&l["overflows"]) {
            let n = o["count"].as_u64().unwrap_or(0);
            if o["wrapped"] == true {
                wrapped += n;
            } else {
                saturated += n;
            }
        }
        let err = l["max_error"].as_f64().unwrap_or(0.0);
        let steps = FixedType::parse(text(&l["result"]))
            .map_or(String::new(), |t| format!("{:.1}", err / t.lsb()));
        let _ = writeln!(
            out,
            "<tr data-layer=\"{}\"{}><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{steps}</td><td>{wrapped}</td><td>{saturated}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            esc(name),
            if wraps(l) { " class=\"bad\"" } else { "" },
            esc(name),
            esc(text(&l["result"])),
            num(l["float_min"].as_f64().unwrap_or(0.0)),
            num(l["float_max"].as_f64().unwrap_or(0.0)),
            num(err),
            number(&l["float_outside"]),
            esc(text(&l["holding_type"]))
        );
    }
    out.push_str("</table>\n");
}

fn vendor_figures(m: &Value, r: &Reports, out: &mut String) {
    out.push_str("<h2 id=\"vendor\">Estimate against the vendor tools</h2>\n");
    if r.csynth.is_none() && r.cosim.is_none() && r.vivado.is_none() {
        out.push_str("<p class=\"sub\">No vendor reports in the project yet: after <code>hlsrs build DIR</code> (C-synthesis, co-simulation, Vivado synthesis), <code>hlsrs report DIR --html</code> adds each real figure beside the estimate.</p>\n");
        return;
    }
    let e = &m["estimate"];
    let est = |k: &str| e["total"][k].as_u64();
    let cs = r.csynth.as_ref();
    let viv = r.vivado.as_ref();
    let co = r.cosim.as_ref();
    // (figure, estimate, C-synthesis, Vivado, co-simulation)
    type Row<'a> = (&'a str, Option<u64>, Option<u64>, Option<u64>, Option<u64>);
    let mut rows: Vec<Row> = RESOURCES
        .iter()
        .map(|&(key, label)| {
            let pick = |u: &super::Resources| match key {
                "dsp" => u.dsp,
                "lut" => u.lut,
                "ff" => u.ff,
                "bram_18k" => u.bram_18k,
                _ => u.uram,
            };
            (
                label,
                est(key),
                cs.and_then(|c| pick(&c.used)),
                viv.and_then(|v| pick(&v.used)),
                None,
            )
        })
        .collect();
    rows.push((
        "latency (cycles)",
        e["latency_cycles"].as_u64(),
        cs.and_then(|c| c.latency_worst),
        None,
        co.and_then(|c| c.latency_max),
    ));
    rows.push((
        "II (cycles)",
        e["ii"].as_u64(),
        cs.and_then(|c| c.interval_max),
        None,
        co.and_then(|c| c.interval_max),
    ));
    out.push_str("<table>\n<tr><th>figure</th><th>estimate</th><th>C-synthesis</th><th>Vivado</th><th>co-simulation</th><th>real / estimate</th></tr>\n");
    let show = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for (label, est, c, v, s) in rows {
        // The most final figure the tools gave: Vivado over C-synthesis for resources, the
        // co-simulation over C-synthesis for cycles.
        let real = v.or(s).or(c);
        let ratio = match (real, est) {
            (Some(r), Some(e)) if e > 0 => {
                let q = r as f64 / e as f64;
                format!(
                    "<span class=\"{}\">{q:.2}</span> {}",
                    if !(0.5..=2.0).contains(&q) {
                        "warn"
                    } else {
                        ""
                    },
                    bar(q / 2.0, 100.0, &format!("{q:.2} (full bar: 2)"))
                )
            }
            _ => "-".into(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{label}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{ratio}</td></tr>",
            show(est),
            show(c),
            show(v),
            show(s)
        );
    }
    out.push_str("</table>\n");
    for (what, file) in [
        ("C-synthesis", cs.map(|c| &c.file)),
        ("co-simulation", co.map(|c| &c.file)),
        ("Vivado", viv.map(|v| &v.file)),
    ] {
        if let Some(f) = file {
            let _ = writeln!(
                out,
                "<p class=\"sub\">{what}: <code>{}</code></p>",
                esc(&f.display().to_string())
            );
        }
    }
    if let Some(c) = co.filter(|c| !c.passed()) {
        let _ = writeln!(
            out,
            "<p class=\"warn\">co-simulation {}: the RTL's outputs did not match the C model's.</p>",
            esc(&c.status)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate_within_unit_bins() {
        // 4 values in [2^0, 2^1) and 4 in [2^3, 2^4): the median is the edge between them.
        let m = serde_json::json!({"zeros": 0, "log2": [[0, 4], [3, 4]]});
        let q = quartiles(&m, 12.0).unwrap();
        assert_eq!(q[0], 0.0);
        assert_eq!(q[1], 0.5);
        assert_eq!(q[2], 1.0);
        assert_eq!(q[3], 3.5);
        assert_eq!(q[4], 12f64.log2());
        assert!(quartiles(&serde_json::json!({"zeros": 3, "log2": []}), 0.0).is_none());
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abcd", 4), "abcd");
    }
}
