//! Fixed-point types and their exact arithmetic: the one place where `ap_fixed<W,I,Q,O>` is
//! parsed, rendered to C++, and given meaning.
//!
//! Values are held exactly as `raw * 2^-frac` in an `i128`. Products and sums are exact (as in
//! ap_fixed, whose operators return full-precision results); precision is lost only in
//! [`FixedType::cast`], which follows ap_fixed's quantization-then-overflow rules bit for bit.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Quantization mode: what happens to bits below the type's least significant bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Quant {
    Trn,
    TrnZero,
    Rnd,
    RndZero,
    RndMinInf,
    RndInf,
    RndConv,
}

/// Overflow mode: what happens to values outside the type's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Overflow {
    Wrap,
    Sat,
    SatZero,
    SatSym,
}

impl Quant {
    const ALL: [(Quant, &'static str); 7] = [
        (Quant::Trn, "AP_TRN"),
        (Quant::TrnZero, "AP_TRN_ZERO"),
        (Quant::Rnd, "AP_RND"),
        (Quant::RndZero, "AP_RND_ZERO"),
        (Quant::RndMinInf, "AP_RND_MIN_INF"),
        (Quant::RndInf, "AP_RND_INF"),
        (Quant::RndConv, "AP_RND_CONV"),
    ];
    fn name(self) -> &'static str {
        Self::ALL.iter().find(|(q, _)| *q == self).unwrap().1
    }
    fn parse(s: &str) -> Option<Quant> {
        let s = s.trim().to_ascii_uppercase();
        let s = s.strip_prefix("AP_").unwrap_or(&s);
        Self::ALL
            .iter()
            .find(|(_, n)| &n[3..] == s)
            .map(|(q, _)| *q)
    }
}

impl Overflow {
    const ALL: [(Overflow, &'static str); 4] = [
        (Overflow::Wrap, "AP_WRAP"),
        (Overflow::Sat, "AP_SAT"),
        (Overflow::SatZero, "AP_SAT_ZERO"),
        (Overflow::SatSym, "AP_SAT_SYM"),
    ];
    fn name(self) -> &'static str {
        Self::ALL.iter().find(|(o, _)| *o == self).unwrap().1
    }
    fn parse(s: &str) -> Option<Overflow> {
        let s = s.trim().to_ascii_uppercase();
        let s = s.strip_prefix("AP_").unwrap_or(&s);
        Self::ALL
            .iter()
            .find(|(_, n)| &n[3..] == s)
            .map(|(o, _)| *o)
    }
}

/// 2^e, exactly (built from its bits where it is a normal double).
pub fn pow2(e: i32) -> f64 {
    if (-1022..=1023).contains(&e) {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        2f64.powi(e)
    }
}

/// Largest width the compiler accepts for a type. Products of two such values still fit an i128.
pub const MAX_WIDTH: u32 = 62;

/// The casts of one type whose value did not fit (wrapped or saturated, as the type's overflow
/// mode says).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overflowed {
    pub ty: FixedType,
    pub count: u64,
    /// The largest magnitude among those values before the overflow (what a wider type must hold).
    pub largest: f64,
}

thread_local! {
    /// Overflowing casts on this thread since the last `take_overflows`, by type. Written only
    /// when a value does not fit, so casting stays cheap.
    static OVERFLOWS: std::cell::RefCell<Vec<Overflowed>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The casts on this thread that overflowed their type since the last call (by type, in order
/// of first overflow): call before and after a computation to attribute its overflows.
pub fn take_overflows() -> Vec<Overflowed> {
    OVERFLOWS.with(|o| std::mem::take(&mut *o.borrow_mut()))
}

/// Adds overflows taken on another thread (`take_overflows` there) to this thread's.
pub fn add_overflows(more: impl IntoIterator<Item = Overflowed>) {
    OVERFLOWS.with(|o| merge_overflows(&mut o.borrow_mut(), more));
}

/// Adds `more` to `into`, one entry per type.
pub fn merge_overflows(into: &mut Vec<Overflowed>, more: impl IntoIterator<Item = Overflowed>) {
    for m in more {
        match into.iter_mut().find(|e| e.ty == m.ty) {
            Some(e) => {
                e.count += m.count;
                e.largest = e.largest.max(m.largest);
            }
            None => into.push(m),
        }
    }
}

#[cold]
fn record_overflow(ty: FixedType, raw: i128) {
    let largest = (raw as f64).abs() * ty.lsb();
    add_overflows([Overflowed {
        ty,
        count: 1,
        largest,
    }]);
}

/// A fixed-point type: `width` bits of which `int` are integer bits (may be negative or exceed the
/// width, as in ap_fixed), two's complement when `signed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedType {
    pub width: u32,
    pub int: i32,
    pub signed: bool,
    pub quant: Quant,
    pub overflow: Overflow,
}

/// An exact value `raw * 2^-frac`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exact {
    pub raw: i128,
    pub frac: i32,
}

// Named methods rather than operator traits: call sites read as explicit exact arithmetic.
#[allow(clippy::should_implement_trait)]
impl Exact {
    pub fn new(raw: i128, frac: i32) -> Exact {
        Exact { raw, frac }
    }
    pub fn zero() -> Exact {
        Exact { raw: 0, frac: 0 }
    }
    pub fn mul(self, o: Exact) -> Exact {
        Exact {
            raw: self.raw * o.raw,
            frac: self.frac + o.frac,
        }
    }
    pub fn add(self, o: Exact) -> Exact {
        let f = self.frac.max(o.frac);
        Exact {
            raw: (self.raw << (f - self.frac)) + (o.raw << (f - o.frac)),
            frac: f,
        }
    }
    pub fn neg(self) -> Exact {
        Exact {
            raw: -self.raw,
            frac: self.frac,
        }
    }
    pub fn sub(self, o: Exact) -> Exact {
        self.add(o.neg())
    }
    /// Compares exactly (as ap_fixed's relational operators do).
    pub fn cmp_value(self, o: Exact) -> std::cmp::Ordering {
        let f = self.frac.max(o.frac);
        (self.raw << (f - self.frac)).cmp(&(o.raw << (f - o.frac)))
    }
    pub fn to_f64(self) -> f64 {
        // i64 -> f64 rounds as i128 -> f64 does, without the slow library call.
        let raw = match i64::try_from(self.raw) {
            Ok(r) => r as f64,
            Err(_) => self.raw as f64,
        };
        raw * pow2(-self.frac)
    }
}

/// Why a type string did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeParseError(pub String);

impl fmt::Display for TypeParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FixedType {
    /// `ap_fixed<width, int>` with the default AP_TRN / AP_WRAP modes.
    pub fn fixed(width: u32, int: i32) -> FixedType {
        FixedType {
            width,
            int,
            signed: true,
            quant: Quant::Trn,
            overflow: Overflow::Wrap,
        }
    }
    pub fn ufixed(width: u32, int: i32) -> FixedType {
        FixedType {
            signed: false,
            ..FixedType::fixed(width, int)
        }
    }
    pub fn with_modes(self, quant: Quant, overflow: Overflow) -> FixedType {
        FixedType {
            quant,
            overflow,
            ..self
        }
    }

    /// Fractional bits.
    pub fn frac(&self) -> i32 {
        self.width as i32 - self.int
    }

    /// Raw range `[min, max]`.
    pub fn raw_range(&self) -> (i128, i128) {
        if self.signed {
            (
                -(1i128 << (self.width - 1)),
                (1i128 << (self.width - 1)) - 1,
            )
        } else {
            (0, (1i128 << self.width) - 1)
        }
    }

    pub fn exact(&self, raw: i128) -> Exact {
        Exact {
            raw,
            frac: self.frac(),
        }
    }

    pub fn to_f64(&self, raw: i128) -> f64 {
        self.exact(raw).to_f64()
    }

    pub fn lsb(&self) -> f64 {
        pow2(-self.frac())
    }

    pub fn max_value(&self) -> f64 {
        self.to_f64(self.raw_range().1)
    }

    pub fn min_value(&self) -> f64 {
        self.to_f64(self.raw_range().0)
    }

    /// Converts an exact value into this type: quantization first, then overflow, as ap_fixed's
    /// assignment does. Returns the raw bits (sign-extended for signed types).
    pub fn cast(&self, v: Exact) -> i128 {
        let shift = v.frac - self.frac();
        let q = if shift > 0 {
            let floor = v.raw >> shift;
            let rem = v.raw - (floor << shift);
            let half = 1i128 << (shift - 1);
            let neg = v.raw < 0;
            let up = match self.quant {
                Quant::Trn => false,
                Quant::TrnZero => neg && rem != 0,
                Quant::Rnd => rem >= half,
                Quant::RndZero => rem > half || (rem == half && neg),
                Quant::RndMinInf => rem > half,
                Quant::RndInf => rem > half || (rem == half && !neg),
                Quant::RndConv => rem > half || (rem == half && (floor & 1) == 1),
            };
            floor + up as i128
        } else {
            v.raw << (-shift)
        };
        self.overflow_raw(q)
    }

    /// Applies the overflow mode to a raw value already at this type's scale.
    fn overflow_raw(&self, q: i128) -> i128 {
        let (lo, hi) = self.raw_range();
        // AP_SAT_SYM also moves the most negative value itself to -max.
        let sym_min = self.overflow == Overflow::SatSym && self.signed && q == lo;
        if q >= lo && q <= hi && !sym_min {
            return q;
        }
        record_overflow(*self, q);
        match self.overflow {
            Overflow::Wrap => {
                let m = q & ((1i128 << self.width) - 1);
                if self.signed && (m >> (self.width - 1)) & 1 == 1 {
                    m - (1i128 << self.width)
                } else {
                    m
                }
            }
            Overflow::Sat => q.clamp(lo, hi),
            Overflow::SatZero => 0,
            Overflow::SatSym => {
                if self.signed {
                    q.clamp(-hi, hi)
                } else {
                    q.clamp(lo, hi)
                }
            }
        }
    }

    /// Quantizes a float with this type's modes (how the compiler turns weights and inputs into
    /// bits). Exact: scaling an f64 by a power of two loses nothing.
    pub fn quantize_f64(&self, x: f64) -> Result<i128, TypeParseError> {
        if !x.is_finite() {
            return Err(TypeParseError(format!(
                "value {x} is not finite and cannot be represented in {self}"
            )));
        }
        let scaled = x * pow2(self.frac());
        // 2^100: far outside any type we accept.
        let bound = f64::from_bits((1023 + 100) << 52);
        if scaled.abs() >= bound {
            // Far outside any type we accept: only the overflow mode matters.
            let q = if scaled > 0.0 {
                1i128 << 100
            } else {
                -(1i128 << 100)
            };
            return Ok(self.overflow_raw(q));
        }
        let floor = scaled.floor();
        let rem = scaled - floor; // exact for doubles
        let neg = x < 0.0;
        // (Through i64 where it fits: the i128 conversion is a slow library call.)
        let fl = if floor.abs() < 4.6e18 {
            floor as i64 as i128
        } else {
            floor as i128
        };
        let up = match self.quant {
            Quant::Trn => false,
            Quant::TrnZero => neg && rem != 0.0,
            Quant::Rnd => rem >= 0.5,
            Quant::RndZero => rem > 0.5 || (rem == 0.5 && neg),
            Quant::RndMinInf => rem > 0.5,
            Quant::RndInf => rem > 0.5 || (rem == 0.5 && !neg),
            Quant::RndConv => rem > 0.5 || (rem == 0.5 && (fl & 1) == 1),
        };
        Ok(self.overflow_raw(fl + up as i128))
    }

    /// The C++ spelling. Integer types are written as `ap_fixed<W,W>` so that every conversion in
    /// the generated code follows the same fixed-point rules as the emulator.
    pub fn to_cpp(&self) -> String {
        let base = if self.signed { "ap_fixed" } else { "ap_ufixed" };
        if self.quant == Quant::Trn && self.overflow == Overflow::Wrap {
            format!("{base}<{},{}>", self.width, self.int)
        } else {
            format!(
                "{base}<{},{},{},{}>",
                self.width,
                self.int,
                self.quant.name(),
                self.overflow.name()
            )
        }
    }

    /// The C++ type constants of this type are stored as: their bit pattern in
    /// `hlsrs::bits_t<width>` (hlsrs_common.h: the smallest plain C integer for g++, so a million
    /// weights compile in seconds; exactly `width` bits for synthesis, the ROM's width).
    pub fn c_bits_type(&self) -> String {
        format!("hlsrs::bits_t<{}>", self.width)
    }

    /// Parses `ap_fixed<16,6>`, `ap_fixed<16,6,AP_RND,AP_SAT>`, `ap_ufixed<8,0>`, `ap_int<8>`,
    /// `ap_uint<4>`, and hls4ml's short forms `fixed<16,6,RND,SAT>`, `ufixed<..>`, `int<8>`.
    pub fn parse(s: &str) -> Result<FixedType, TypeParseError> {
        let err = |why: &str| {
            TypeParseError(format!(
                "invalid precision '{s}': {why} (expected e.g. ap_fixed<16,6>, ap_fixed<16,6,AP_RND,AP_SAT>, ap_ufixed<8,0>, ap_int<8>)"
            ))
        };
        let t = s.trim();
        let open = t.find('<').ok_or_else(|| err("missing '<'"))?;
        if !t.ends_with('>') {
            return Err(err("missing '>'"));
        }
        let base = t[..open].trim().to_ascii_lowercase();
        let base = base.strip_prefix("ap_").unwrap_or(&base);
        let args: Vec<&str> = t[open + 1..t.len() - 1].split(',').map(str::trim).collect();
        let int_arg = |i: usize| -> Result<i64, TypeParseError> {
            args.get(i)
                .ok_or_else(|| err("missing width"))?
                .parse::<i64>()
                .map_err(|_| err(&format!("'{}' is not an integer", args[i])))
        };
        let (signed, integer) = match base {
            "fixed" => (true, false),
            "ufixed" => (false, false),
            "int" => (true, true),
            "uint" => (false, true),
            _ => return Err(err(&format!("unknown base type '{}'", &t[..open]))),
        };
        let width = int_arg(0)?;
        if width < 1 || width > MAX_WIDTH as i64 {
            return Err(err(&format!("width must be 1..={MAX_WIDTH}")));
        }
        let width = width as u32;
        let (int, rest) = if integer {
            if args.len() != 1 {
                return Err(err("integer types take one argument"));
            }
            (width as i32, &args[1..])
        } else {
            if args.len() < 2 || args.len() > 5 {
                return Err(err("expected 2 to 4 arguments"));
            }
            let i = int_arg(1)?;
            if i.abs() > 256 {
                return Err(err("integer bits out of range"));
            }
            (i as i32, &args[2..])
        };
        let quant = match rest.first() {
            Some(q) => {
                Quant::parse(q).ok_or_else(|| err(&format!("unknown quantization mode '{q}'")))?
            }
            None => Quant::Trn,
        };
        let overflow = match rest.get(1) {
            Some(o) => {
                Overflow::parse(o).ok_or_else(|| err(&format!("unknown overflow mode '{o}'")))?
            }
            None => Overflow::Wrap,
        };
        if let Some(n) = rest.get(2)
            && n.parse::<u32>() != Ok(0)
        {
            return Err(err("saturation bits other than 0 are not supported"));
        }
        if int > width as i32 {
            // ap_types asserts when rounding into such types; they are never needed.
            return Err(err("more integer bits than width is not supported"));
        }
        if signed && width < 2 && !integer {
            return Err(err("a signed type needs at least 2 bits"));
        }
        Ok(FixedType {
            width,
            int,
            signed,
            quant,
            overflow,
        })
    }
}

impl fmt::Display for FixedType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_cpp())
    }
}

impl Serialize for FixedType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_cpp())
    }
}

impl<'de> Deserialize<'de> for FixedType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FixedType::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Arithmetic right shift for positive `shift`, left shift for negative: `floor(x * 2^-shift)`.
/// The hls_lib helper `hlsrs::shift_floor` does the same.
pub fn shift_floor(x: i128, shift: i32) -> i128 {
    if shift >= 0 {
        x >> shift
    } else {
        x << (-shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render_round_trip() {
        for s in [
            "ap_fixed<16,6>",
            "ap_fixed<16,6,AP_RND,AP_SAT>",
            "ap_ufixed<8,0>",
            "ap_fixed<8,-2,AP_RND_CONV,AP_SAT_SYM>",
        ] {
            assert_eq!(FixedType::parse(s).unwrap().to_cpp(), s);
        }
        assert_eq!(
            FixedType::parse("fixed<10,4,RND,SAT>").unwrap().to_cpp(),
            "ap_fixed<10,4,AP_RND,AP_SAT>"
        );
        assert_eq!(
            FixedType::parse("ap_int<8>").unwrap().to_cpp(),
            "ap_fixed<8,8>"
        );
        assert!(FixedType::parse("ap_fixed<16>").is_err());
        assert!(FixedType::parse("ap_fixed<0,0>").is_err());
        assert!(FixedType::parse("float").is_err());
    }

    #[test]
    fn cast_quantization_modes_on_halves() {
        // value = raw * 2^-2; casting to frac 0 drops two bits.
        let to_int = |q| FixedType::fixed(8, 8).with_modes(q, Overflow::Wrap);
        let cases = [
            (-6, Quant::Trn, -2),
            (-6, Quant::TrnZero, -1),
            (-6, Quant::Rnd, -1),
        ];
        for (raw, q, want) in cases {
            assert_eq!(to_int(q).cast(Exact::new(raw, 2)), want, "{raw} {q:?}");
        }
        // -1.5 with each rounding mode
        let v = Exact::new(-6, 2);
        assert_eq!(to_int(Quant::RndZero).cast(v), -1);
        assert_eq!(to_int(Quant::RndMinInf).cast(v), -2);
        assert_eq!(to_int(Quant::RndInf).cast(v), -2);
        assert_eq!(to_int(Quant::RndConv).cast(v), -2);
        assert_eq!(to_int(Quant::RndConv).cast(Exact::new(10, 2)), 2); // 2.5 -> 2
    }

    #[test]
    fn cast_overflow_modes() {
        let t = FixedType::fixed(4, 4);
        assert_eq!(t.cast(Exact::new(9, 0)), -7);
        assert_eq!(
            t.with_modes(Quant::Trn, Overflow::Sat)
                .cast(Exact::new(9, 0)),
            7
        );
        assert_eq!(
            t.with_modes(Quant::Trn, Overflow::Sat)
                .cast(Exact::new(-9, 0)),
            -8
        );
        assert_eq!(
            t.with_modes(Quant::Trn, Overflow::SatSym)
                .cast(Exact::new(-9, 0)),
            -7
        );
        assert_eq!(
            t.with_modes(Quant::Trn, Overflow::SatZero)
                .cast(Exact::new(9, 0)),
            0
        );
        let u = FixedType::ufixed(4, 4).with_modes(Quant::Trn, Overflow::Sat);
        assert_eq!(u.cast(Exact::new(-3, 0)), 0);
    }

    #[test]
    fn quantize_f64_matches_cast_of_exact() {
        let t = FixedType::fixed(10, 3).with_modes(Quant::Rnd, Overflow::Sat);
        for x in [-4.7f64, -0.001, 0.0, 0.126953125, 3.99, 100.0] {
            let bits = x.to_bits();
            let exp = ((bits >> 52) & 0x7ff) as i32;
            let mant = ((bits & ((1u64 << 52) - 1)) | if exp > 0 { 1u64 << 52 } else { 0 }) as i128;
            let raw = if x < 0.0 { -mant } else { mant };
            let e = if x == 0.0 {
                Exact::zero()
            } else {
                Exact::new(raw, 1075 - exp)
            };
            assert_eq!(t.quantize_f64(x).unwrap(), t.cast(e), "{x}");
        }
    }
}
