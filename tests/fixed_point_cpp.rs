//! The arithmetic core of the numerical contract: `FixedType::cast` and exact products/sums in the
//! emulator give the same bits as the real ap_fixed headers compiled by g++, over random types
//! (signed and unsigned, every quantization and overflow mode) and random values.

mod common;

use common::Rng;
use hlsrs::ir::{Exact, FixedType, Overflow, Quant};
use std::fmt::Write;
use std::process::Command;

const QUANTS: [Quant; 7] = [
    Quant::Trn,
    Quant::TrnZero,
    Quant::Rnd,
    Quant::RndZero,
    Quant::RndMinInf,
    Quant::RndInf,
    Quant::RndConv,
];
const OVERFLOWS: [Overflow; 4] = [
    Overflow::Wrap,
    Overflow::Sat,
    Overflow::SatZero,
    Overflow::SatSym,
];

fn random_type(rng: &mut Rng) -> FixedType {
    // ap_types itself asserts ("reading bit beyond MSB") when rounding into a type with more
    // integer bits than width (e.g. ap_fixed<17,-1> to ap_fixed<4,5>); the test stays within
    // -2..=width integer bits and widths of 4 and more.
    let width = rng.range(4, 24) as u32;
    let int = rng.range(-2, width as i64) as i32;
    let t = if rng.range(0, 3) == 0 {
        FixedType::ufixed(width, int)
    } else {
        FixedType::fixed(width, int)
    };
    t.with_modes(
        QUANTS[rng.range(0, 6) as usize],
        OVERFLOWS[rng.range(0, 3) as usize],
    )
}

fn random_raw(rng: &mut Rng, t: &FixedType) -> i128 {
    let (lo, hi) = t.raw_range();
    rng.range(lo as i64, hi as i64) as i128
}

#[test]
fn casts_products_and_sums_match_ap_fixed() {
    let mut rng = Rng(0x5eed_f1e1d);
    let mut cpp = String::from("#include <cstdio>\n#include \"hlsrs_common.h\"\nint main() {\n");
    let mut expected = Vec::new();
    for k in 0..120 {
        let (a, b, c) = (
            random_type(&mut rng),
            random_type(&mut rng),
            random_type(&mut rng),
        );
        let mut vals = Vec::new();
        for _ in 0..40 {
            let (ra, rb, rc) = (
                random_raw(&mut rng, &a),
                random_raw(&mut rng, &b),
                random_raw(&mut rng, &c),
            );
            // Cast a -> c, and c + a*b -> c (the dense kernel's accumulate step).
            expected.push(c.cast(a.exact(ra)));
            expected.push(c.cast(c.exact(rc).add(a.exact(ra).mul(b.exact(rb)))));
            expected.push(ra); // from_bits / to_raw round trip
            vals.push(format!("{ra}LL,{rb}LL,{rc}LL"));
        }
        writeln!(
            cpp,
            "  {{ typedef {a} A; typedef {b} B; typedef {c} C; fprintf(stderr, \"case {k} {a} {b} {c}\\n\");\n    \
             static const long long v[] = {{{}}};\n    \
             for (int i = 0; i < {}; i++) {{\n      \
               A x = hlsrs::from_bits<A>(v[3*i]); B y = hlsrs::from_bits<B>(v[3*i+1]); C z = hlsrs::from_bits<C>(v[3*i+2]);\n      \
               C cast = x; C acc = z + x * y;\n      \
               printf(\"%lld\\n%lld\\n%lld\\n\", hlsrs::to_raw(cast), hlsrs::to_raw(acc), hlsrs::to_raw(x));\n    }}\n  }}",
            vals.join(","),
            vals.len()
        )
        .unwrap();
    }
    cpp.push_str("  return 0;\n}\n");
    let dir = common::tempdir();
    let src = dir.path().join("casts.cpp");
    std::fs::write(&src, &cpp).unwrap();
    let exe = dir.path().join("casts");
    let ap = common::ap_types();
    let out = Command::new("g++")
        .args(["-std=c++14", "-O0", "-w"])
        .arg(format!("-I{}", ap.display()))
        .arg(format!("-I{}", common::root().join("hls_lib").display()))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "g++ failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert!(
        run.status.success(),
        "casts program failed: {}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let got: Vec<i128> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(got.len(), expected.len());
    let mismatches: Vec<String> = got
        .iter()
        .zip(&expected)
        .enumerate()
        .filter(|(_, (g, e))| g != e)
        .take(10)
        .map(|(i, (g, e))| format!("check {i} (case {}): ap_fixed {g}, emulator {e}", i / 120))
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    println!(
        "{} casts, products and sums bit-exact with ap_fixed",
        expected.len()
    );
}

#[test]
fn quantize_f64_matches_ap_fixed_double_conversion() {
    // Inputs and constants are quantized by the compiler; this proves the result is what
    // ap_fixed's own conversion from double would give.
    let mut rng = Rng(42);
    let mut cpp = String::from("#include <cstdio>\n#include \"hlsrs_common.h\"\nint main() {\n");
    let mut expected = Vec::new();
    for _ in 0..60 {
        let t = random_type(&mut rng);
        let vals: Vec<f64> = (0..30)
            .map(|_| {
                let span = t.max_value() - t.min_value();
                t.min_value() - span * 0.2 + span * 1.4 * (rng.next() % 100_000) as f64 / 100_000.0
            })
            .collect();
        for &v in &vals {
            expected.push(t.quantize_f64(v).unwrap());
        }
        let list: Vec<String> = vals.iter().map(|v| format!("{v:e}")).collect();
        writeln!(
            cpp,
            "  {{ typedef {t} T; static const double v[] = {{{}}};\n    for (int i = 0; i < {}; i++) {{ T x = v[i]; printf(\"%lld\\n\", hlsrs::to_raw(x)); }} }}",
            list.join(","),
            vals.len()
        )
        .unwrap();
    }
    cpp.push_str("  return 0;\n}\n");
    let dir = common::tempdir();
    let src = dir.path().join("q.cpp");
    std::fs::write(&src, &cpp).unwrap();
    let exe = dir.path().join("q");
    let out = Command::new("g++")
        .args(["-std=c++14", "-O0", "-w"])
        .arg(format!("-I{}", common::ap_types().display()))
        .arg(format!("-I{}", common::root().join("hls_lib").display()))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "g++ failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<i128> = String::from_utf8(Command::new(&exe).output().unwrap().stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let bad: Vec<_> = got
        .iter()
        .zip(&expected)
        .enumerate()
        .filter(|(_, (g, e))| g != e)
        .take(10)
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(got.len(), expected.len());
    let _ = Exact::zero();
}
