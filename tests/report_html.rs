//! report.html in a real browser: headless Chromium (Debian's `chromium`, installed by
//! scripts/test.sh) loads the page, runs its script and renders it to a PNG; the page must log
//! nothing to the console, its script must reach its end, and every layer of the manifest must
//! be on it, drawn from the manifest's own figures.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn hlsrs(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hlsrs"))
        .args(args)
        .output()
        .unwrap()
}

/// The browser, or `None` with the reason printed (only outside CI: scripts/test.sh installs
/// it, so a CI run without it fails).
fn chromium() -> Option<&'static str> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(name);
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "headless Chromium is needed to test report.html: scripts/test.sh installs it (Debian package chromium)"
    );
    eprintln!(
        "SKIPPED the browser half of this test: no chromium on PATH (Debian: apt-get install chromium; scripts/test.sh does it)"
    );
    None
}

/// What the browser made of a page.
struct Rendered {
    /// The document after its script ran.
    dom: String,
    /// Console messages (errors, uncaught exceptions, logs).
    console: Vec<String>,
    png: Vec<u8>,
}

fn render(browser: &str, page: &Path) -> Rendered {
    let profile = common::tempdir();
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let run = |extra: &[&str]| {
        let o = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--enable-logging=stderr",
                "--v=0",
                &format!("--user-data-dir={}", profile.path().display()),
            ])
            .args(extra)
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{browser} failed on {url}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o
    };
    let dumped = run(&["--dump-dom"]);
    let png_path = profile.path().join("page.png");
    run(&[
        &format!("--screenshot={}", png_path.display()),
        "--window-size=1300,2400",
    ]);
    Rendered {
        dom: String::from_utf8_lossy(&dumped.stdout).into_owned(),
        console: String::from_utf8_lossy(&dumped.stderr)
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
        png: std::fs::read(&png_path).unwrap(),
    }
}

/// Width and height from a PNG's header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24 && png[..8] == *b"\x89PNG\r\n\x1a\n" && &png[12..16] == b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

fn manifest(project: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(project.join("hlsrs.json")).unwrap()).unwrap()
}

/// Every layer the manifest names (inputs too).
fn layer_names(m: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["layer"].as_str().unwrap().to_string())
        .collect();
    names.extend(
        m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_string()),
    );
    names
}

/// The text of the page's graph: from its `<svg class="graph"` to the end of that svg.
fn graph_svg(html: &str) -> &str {
    let start = html.find("<svg class=\"graph\"").expect("a graph");
    let end = html[start..].find("</svg>").unwrap() + start;
    &html[start..end]
}

/// The graph box (`<g data-layer=...>`) of `layer`.
fn graph_box<'a>(graph: &'a str, layer: &str) -> &'a str {
    let start = graph
        .find(&format!("<g data-layer=\"{layer}\""))
        .unwrap_or_else(|| panic!("no box for layer {layer}"));
    let end = graph[start..].find("</g>").unwrap() + start;
    &graph[start..end]
}

/// The page's checks that need no browser: self-contained, every layer in the graph.
fn check_page(html: &str, m: &serde_json::Value) {
    for fetched in ["<link", " src=", "@import", "url(http"] {
        assert!(
            !html.contains(fetched),
            "the page fetches something: {fetched}"
        );
    }
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !without_ns.contains("http://") && !without_ns.contains("https://"),
        "the page refers to the network"
    );
    let graph = graph_svg(html);
    for name in layer_names(m) {
        graph_box(graph, &name);
    }
    // An arrow per input of every layer (the marker's own path aside).
    let edges: usize = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["inputs"].as_array().unwrap().len())
        .sum();
    assert_eq!(graph.matches("marker-end=\"url(#arrow)\"").count(), edges);
}

fn check_in_browser(page: &Path, m: &serde_json::Value) {
    let Some(browser) = chromium() else { return };
    let r = render(browser, page);
    assert!(r.console.is_empty(), "console messages: {:#?}", r.console);
    let hooked = r.dom.matches("data-layer=\"").count();
    assert!(hooked > 0);
    assert!(
        r.dom.contains(&format!("data-hooked=\"{hooked}\"")),
        "the page's script did not reach its end ({hooked} elements to hook)"
    );
    let graph = graph_svg(&r.dom);
    for name in layer_names(m) {
        graph_box(graph, &name);
    }
    assert_eq!(png_size(&r.png), (1300, 2400));
    // A blank page compresses to a few kilobytes; this one has boxes, bars and text.
    assert!(r.png.len() > 50_000, "PNG of {} bytes", r.png.len());
}

#[test]
fn the_browser_check_catches_a_script_error() {
    let Some(browser) = chromium() else { return };
    let dir = common::tempdir();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>not_defined();</script></body></html>",
    )
    .unwrap();
    let r = render(browser, &page);
    assert!(
        r.console.iter().any(|l| l.contains("not_defined")),
        "{:#?}",
        r.console
    );
}

/// Compiles a test case with `--report`; the project directory.
fn compile_with_report(case: &str, dir: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join(case);
    let model = common::case(case).model();
    let mut args = vec![
        "compile",
        model.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--report",
    ];
    args.extend(extra);
    let o = hlsrs(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("report.html"),
        "the summary names the page"
    );
    out
}

#[test]
fn compile_report_shows_every_layer_and_where_values_wrap() {
    let dir = common::tempdir();
    let prj = compile_with_report("cnn_wraps_at_default", dir.path(), &[]);
    let page = prj.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let m = manifest(&prj);
    check_page(&html, &m);
    // Each layer's box is red exactly when the fidelity record says its values wrapped, and the
    // types-against-values plot gives its count.
    let graph = graph_svg(&html);
    let mut red = 0;
    for l in m["fidelity"]["layers"].as_array().unwrap() {
        let name = l["name"].as_str().unwrap();
        let wrapped: Vec<u64> = l["overflows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["wrapped"] == true)
            .map(|o| o["count"].as_u64().unwrap())
            .collect();
        let bad = !wrapped.is_empty() || l["float_outside"].as_u64().unwrap() > 0;
        assert_eq!(
            graph_box(graph, name).contains("stroke=\"#c62828\""),
            bad,
            "layer {name}"
        );
        red += bad as usize;
        for n in wrapped {
            assert!(html.contains(&format!("{n} wrapped")), "layer {name}: {n}");
        }
    }
    assert!(red >= 2, "the case wraps in several layers");
    // Every weight array's row, and the estimate's per-layer figures.
    for c in m["fidelity"]["constants"].as_array().unwrap() {
        let label = format!(
            ">{} {}<",
            c["layer"].as_str().unwrap(),
            c["role"].as_str().unwrap()
        );
        assert!(html.contains(&label), "{label}");
    }
    for l in m["estimate"]["layers"].as_array().unwrap() {
        let row = format!(
            "<tr data-layer=\"{}\"><td>{}</td><td>{}</td>",
            l["name"].as_str().unwrap(),
            l["name"].as_str().unwrap(),
            l["kind"].as_str().unwrap()
        );
        let at = html.find(&row).unwrap_or_else(|| panic!("{row}"));
        let tr = &html[at..at + html[at..].find("</tr>").unwrap()];
        assert!(
            tr.contains(&format!("<td>{}</td>", l["cost"]["lut"])),
            "{tr}"
        );
        // Its share of the part beside the bar.
        let share = 100.0 * l["cost"]["lut"].as_f64().unwrap() / m["part"]["lut"].as_f64().unwrap();
        assert!(tr.contains(&format!(">{share:.2}%<")), "{tr}");
    }
    check_in_browser(&page, &m);
    // A fresh compile over the project (no --force) accepts the page beside its files.
    let model = common::case("cnn_wraps_at_default").model();
    let o = hlsrs(&[
        "compile",
        model.to_str().unwrap(),
        "-o",
        prj.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn branched_recurrent_and_streamed_designs_render() {
    let dir = common::tempdir();
    for (case, extra) in [
        ("residual_block", &[][..]),
        ("two_inputs_two_outputs", &[][..]),
        ("lstm_bidirectional", &[][..]),
        ("unet_small", &["--io", "stream"][..]),
    ] {
        let prj = compile_with_report(case, dir.path(), extra);
        let page = prj.join("report.html");
        let m = manifest(&prj);
        check_page(&std::fs::read_to_string(&page).unwrap(), &m);
        check_in_browser(&page, &m);
    }
}

#[test]
fn report_html_sets_each_vendor_figure_beside_the_estimate() {
    // A compiled project with the reference C-synthesis and Vivado reports in it.
    let dir = common::tempdir();
    let prj = dir.path().join("prj");
    let model = common::case("two_layer_keras").model();
    let o = hlsrs(&[
        "compile",
        model.to_str().unwrap(),
        "-o",
        prj.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let reports = common::root().join("testdata/vitis_reports");
    let dst = prj.join("myproject_prj/solution1/syn/report");
    std::fs::create_dir_all(&dst).unwrap();
    let src = reports.join("myproject_prj/solution1/syn/report");
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dst.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        reports.join("vivado_synth.rpt"),
        prj.join("vivado_synth.rpt"),
    )
    .unwrap();
    let sim = prj.join("myproject_prj/solution1/sim/report");
    std::fs::create_dir_all(&sim).unwrap();
    std::fs::copy(
        reports.join("cosim/vitis2022_pass/myproject_cosim.rpt"),
        sim.join("myproject_cosim.rpt"),
    )
    .unwrap();
    let o = hlsrs(&["report", prj.to_str().unwrap(), "--html"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = prj.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let m = manifest(&prj);
    check_page(&html, &m);
    // The figures as the report parser reads them, beside the manifest's estimate.
    let m_name = m["name"].as_str().map(str::to_string);
    let r = hlsrs::report::find(&prj, m_name.as_deref()).unwrap();
    let (c, v, co) = (r.csynth.unwrap(), r.vivado.unwrap(), r.cosim.unwrap());
    let row = |label: &str, est: &serde_json::Value, c: Option<u64>, v: Option<u64>| {
        let show = |x: Option<u64>| x.map_or("-".to_string(), |x| x.to_string());
        format!(
            "<tr><td>{label}</td><td>{est}</td><td>{}</td><td>{}</td>",
            show(c),
            show(v)
        )
    };
    let t = &m["estimate"]["total"];
    for (label, key, cu, vu) in [
        ("DSP", "dsp", c.used.dsp, v.used.dsp),
        ("LUT", "lut", c.used.lut, v.used.lut),
        ("FF", "ff", c.used.ff, v.used.ff),
    ] {
        let want = row(label, &t[key], cu, vu);
        assert!(html.contains(&want), "{want}");
        // The ratio uses Vivado's figure, the final one.
        let real = vu.or(cu).unwrap() as f64;
        let ratio = format!("{:.2}", real / t[key].as_u64().unwrap() as f64);
        let at = html.find(&want).unwrap();
        let tr = &html[at..at + html[at..].find("</tr>").unwrap()];
        assert!(tr.contains(&ratio), "{tr}: {ratio}");
    }
    // Cycles: the co-simulation's measure beside C-synthesis's.
    let want = format!(
        "{}<td>{}</td>",
        row(
            "latency (cycles)",
            &m["estimate"]["latency_cycles"],
            c.latency_worst,
            None
        ),
        co.latency_max.unwrap()
    );
    assert!(html.contains(&want), "{want}");
    check_in_browser(&page, &m);
}

#[test]
fn report_html_outside_a_project_names_the_manifest() {
    let empty = common::tempdir();
    let o = hlsrs(&["report", empty.path().to_str().unwrap(), "--html"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("hlsrs.json") && err.contains("hlsrs compile"),
        "{err}"
    );
    assert!(!empty.path().join("report.html").exists());
}

/// A manifest from before the fidelity record (or with layers the estimate lacks) still draws:
/// every layer, the sections that need the record saying it is not there.
#[test]
fn a_manifest_without_the_fidelity_record_still_draws() {
    let dir = common::tempdir();
    let prj = compile_with_report("two_layer_keras", dir.path(), &[]);
    let mut m = manifest(&prj);
    m.as_object_mut().unwrap().remove("fidelity");
    std::fs::write(
        prj.join("hlsrs.json"),
        serde_json::to_string_pretty(&m).unwrap(),
    )
    .unwrap();
    let o = hlsrs(&["report", prj.to_str().unwrap(), "--html"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = prj.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    check_page(&html, &m);
    assert!(
        html.contains("no fidelity record"),
        "the page says what is missing"
    );
    check_in_browser(&page, &m);
}

/// Every leaf of a manifest (numbers and strings alike) replaced by markup: the page shows it as
/// text; no element or script of it reaches the document (issue 24: a tampered manifest's
/// numbers ran as script in Chromium).
#[test]
fn a_tampered_manifest_is_only_text_in_the_page() {
    const PAYLOAD: &str = "<b id=\"pwned\">x</b><script>console.log('PWNED')</script><img src=x onerror=\"console.log('PWNED')\">";
    fn taint(v: &mut serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::Object(m) => m.values_mut().for_each(taint),
            Value::Array(a) => a.iter_mut().for_each(taint),
            // Numbers become objects holding markup (printed as JSON text where a number
            // was expected), strings the markup itself.
            Value::Number(_) => *v = serde_json::json!({ "x": [PAYLOAD] }),
            Value::String(_) => *v = Value::String(PAYLOAD.into()),
            _ => {}
        }
    }
    let dir = common::tempdir();
    let prj = compile_with_report("conv2d_small_keras", dir.path(), &[]);
    let mut m = manifest(&prj);
    taint(&mut m);
    // And values of another kind where the page prints a field as it finds it.
    for l in m["layers"].as_array_mut().unwrap() {
        l["reuse"] = serde_json::json!({ "x": [PAYLOAD] });
        l["strategy"] = serde_json::json!([PAYLOAD]);
    }
    std::fs::write(prj.join("hlsrs.json"), m.to_string()).unwrap();
    let o = hlsrs(&["report", prj.to_str().unwrap(), "--html"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(prj.join("report.html")).unwrap();
    // (Also as JSON text would carry it: quotes escaped, the element still made.)
    for markup in [
        "<b id=\"pwned\"",
        "<b id=\\\"pwned\\\"",
        "console.log('PWNED')</script>",
    ] {
        assert!(
            !html.contains(markup),
            "markup from the manifest in the page: {markup}"
        );
    }
    assert!(
        html.contains("&lt;b id=&quot;pwned&quot;&gt;"),
        "the names are shown as text"
    );
    let Some(browser) = chromium() else { return };
    let r = render(browser, &prj.join("report.html"));
    assert!(
        !r.dom.contains("<b id=\"pwned\""),
        "an element from the manifest"
    );
    assert!(
        !r.console.iter().any(|l| l.contains("PWNED")),
        "script from the manifest ran: {:#?}",
        r.console
    );
    assert!(r.dom.contains("data-hooked="), "the page's own script ran");
}

/// A model whose every name carries markup and the metacharacters of every generated language
/// (tests/common's HOSTILE): in the page the names are text, the browser builds no element
/// and runs no script of them, and the page's own script still reaches its end.
#[test]
fn hostile_names_are_only_text_in_the_page() {
    let dir = common::tempdir();
    let model = common::hostile_json(dir.path());
    let prj = dir.path().join("prj");
    let o = hlsrs(&[
        "compile",
        model.to_str().unwrap(),
        "-o",
        prj.to_str().unwrap(),
        "--report",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(prj.join("report.html")).unwrap();
    assert!(!html.contains("<b id=\"pwned\""));
    assert!(!html.contains("<script>console.log('PWNED')"));
    let Some(browser) = chromium() else { return };
    let r = render(browser, &prj.join("report.html"));
    assert!(!r.dom.contains("<b id=\"pwned\""), "an element from a name");
    assert!(
        !r.console.iter().any(|l| l.contains("PWNED")),
        "script from a name ran: {:#?}",
        r.console
    );
    let hooked = r.dom.matches("data-layer=\"").count();
    assert!(
        r.dom.contains(&format!("data-hooked=\"{hooked}\"")),
        "the page's script did not reach its end"
    );
}
