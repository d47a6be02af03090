//! FPGA parts: short names users type, the full part numbers the vendor tools take, and each
//! part's resource totals (for utilisation figures and, later, the estimator).

use crate::error::{Error, Result};
use serde::Serialize;

/// One device, with the full part number the user asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    pub short: String,
    pub full: String,
    pub dsp: u32,
    pub lut: u32,
    pub ff: u32,
    pub bram_18k: u32,
    pub uram: u32,
}

/// A row of the parts table.
#[derive(Debug)]
pub struct PartInfo {
    pub short: &'static str,
    pub full: &'static str,
    pub dsp: u32,
    pub lut: u32,
    pub ff: u32,
    pub bram_18k: u32,
    pub uram: u32,
}

const fn part(
    short: &'static str,
    full: &'static str,
    dsp: u32,
    lut: u32,
    ff: u32,
    bram_18k: u32,
    uram: u32,
) -> PartInfo {
    PartInfo {
        short,
        full,
        dsp,
        lut,
        ff,
        bram_18k,
        uram,
    }
}

impl PartInfo {
    fn with_full(&self, full: &str) -> Part {
        Part {
            short: self.short.to_string(),
            full: full.to_string(),
            dsp: self.dsp,
            lut: self.lut,
            ff: self.ff,
            bram_18k: self.bram_18k,
            uram: self.uram,
        }
    }
}

/// Known parts. Totals from the vendor data sheets (UltraScale+ DS890/DS923, 7-series DS190,
/// Alveo data sheets); xcvu13p matches the totals Vitis reports in ../shared/reference. The
/// Versal xcvp1802 figures are from AMD's product table as recalled, not checked here.
pub const PARTS: &[PartInfo] = &[
    part(
        "xcvu9p",
        "xcvu9p-flga2104-2-e",
        6840,
        1_182_240,
        2_364_480,
        4320,
        960,
    ),
    part(
        "xcvu13p",
        "xcvu13p-flga2577-2-e",
        12288,
        1_728_000,
        3_456_000,
        5376,
        1280,
    ),
    part(
        "xcku115",
        "xcku115-flvb2104-2-e",
        5520,
        663_360,
        1_326_720,
        4320,
        0,
    ),
    part(
        "xcku15p",
        "xcku15p-ffva1760-2-e",
        1968,
        522_720,
        1_045_440,
        1968,
        128,
    ),
    part(
        "xczu9eg",
        "xczu9eg-ffvb1156-2-e",
        2520,
        274_080,
        548_160,
        1824,
        0,
    ),
    part(
        "xczu7ev",
        "xczu7ev-ffvc1156-2-e",
        1728,
        230_400,
        460_800,
        624,
        96,
    ),
    part("xc7z020", "xc7z020-clg400-1", 220, 53_200, 106_400, 280, 0),
    part(
        "xcu200",
        "xcu200-fsgd2104-2-e",
        6840,
        1_182_240,
        2_364_480,
        4320,
        960,
    ),
    part(
        "xcu250",
        "xcu250-figd2104-2L-e",
        12288,
        1_728_000,
        3_456_000,
        5376,
        1280,
    ),
    part(
        "xcu280",
        "xcu280-fsvh2892-2L-e",
        9024,
        1_303_680,
        2_607_360,
        4032,
        960,
    ),
    part(
        "xcu55c",
        "xcu55c-fsvh2892-2L-e",
        9024,
        1_303_680,
        2_607_360,
        4032,
        960,
    ),
    part(
        "xcvp1802",
        "xcvp1802-lsvc4072-2MP-e-S",
        14352,
        3_360_000,
        6_720_000,
        8080,
        1925,
    ),
];

/// Resolves a short name, or a full part number whose prefix is a known device.
pub fn resolve(name: &str) -> Result<Part> {
    let lower = name.trim().to_ascii_lowercase();
    if let Some(p) = PARTS
        .iter()
        .find(|p| p.short == lower || p.full.eq_ignore_ascii_case(&lower))
    {
        return Ok(p.with_full(p.full));
    }
    // A full part number with another package or speed grade: same device, same totals. The
    // part reaches Tcl, cfg and C++ text, so it must be a part number (the device, then groups
    // of letters and digits after dashes), nothing else.
    if let Some(p) = PARTS.iter().find(|p| {
        lower.starts_with(p.short)
            && lower.len() > p.short.len()
            && lower.as_bytes()[p.short.len()] == b'-'
    }) {
        let groups = lower[p.short.len() + 1..].split('-');
        if let Some(bad) = groups
            .clone()
            .find(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(Error::input(format!(
                "part {name:?} is not a part number: {bad:?} after '{}-' is not a group of \
                 letters and digits (a full part number reads like {})",
                p.short, p.full
            )));
        }
        return Ok(p.with_full(name.trim()));
    }
    let shorts: Vec<&str> = PARTS.iter().map(|p| p.short).collect();
    Err(Error::input(format!(
        "unknown part {name:?}; did you mean '{}'? (known: {})",
        crate::config::nearest(&lower, shorts.iter().copied()).unwrap_or(""),
        shorts.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_short_and_full_names() {
        assert_eq!(resolve("xcvu9p").unwrap().full, "xcvu9p-flga2104-2-e");
        assert_eq!(resolve("XCVU13P").unwrap().dsp, 12288);
        assert_eq!(
            resolve("xcvu9p-flgb2104-1-e").unwrap().full,
            "xcvu9p-flgb2104-1-e"
        );
        assert!(
            resolve("xcvu9")
                .unwrap_err()
                .to_string()
                .contains("did you mean 'xcvu9p'")
        );
        assert_eq!(
            resolve("xcvp1802-lsvc4072-2MP-e-S").unwrap().full,
            "xcvp1802-lsvc4072-2MP-e-S"
        );
    }

    #[test]
    fn a_part_number_is_letters_and_digits_between_dashes() {
        for hostile in [
            "xcvu9p-x[exec touch PWNED]",
            "xcvu9p-x\"; exec touch PWNED; \"",
            "xcvu9p-x\nsyn.top=evil",
            "xcvu9p-",
            "xcvu9p--e",
            "xcvu9p-flga2104 -2-e",
            "xcvu9p-$x",
            "xcvu9p-{x}",
            "xcvu9p-\u{e9}",
        ] {
            let e = resolve(hostile).unwrap_err();
            assert!(e.is_user_error(), "{hostile:?}");
            assert!(
                e.to_string().contains("not a part number"),
                "{hostile:?}: {e}"
            );
        }
    }
}
