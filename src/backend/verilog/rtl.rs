//! Exact fixed-point arithmetic written as Verilog: every value a named `signed` wire of the
//! width its range needs, in units of 2^-frac. Adds, subtracts and products are exact (the wire
//! holds the whole range, so Verilog's modulo arithmetic never wraps); only `cast` rounds and
//! overflows, with the modes of `FixedType::cast`, bit for bit. The range of every value is
//! known at compile time, so a cast that cannot round or overflow costs no logic at all.
//!
//! Verilog sizes an expression by its context; every shift and every comparison therefore gets
//! a wire of its own, so no operand is ever evaluated narrower than its value.

use crate::ir::{FixedType, Overflow, Quant};
use crate::kernels::da::{csd, signed_bits};
use std::collections::HashMap;
use std::fmt::Write;

/// When a value is ready within its module: the pipeline stage (registers since the module's
/// inputs) and the adder levels since that stage's registers. A constant is ready always.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Time {
    pub stage: u32,
    pub level: u32,
}

/// A value: a wire (or a constant literal), its range in units of 2^-frac, its frac.
#[derive(Debug, Clone, PartialEq)]
pub struct Val {
    pub expr: String,
    pub lo: i128,
    pub hi: i128,
    pub frac: i32,
    /// Low bits known to be zero (a shifted value's): an adder passes them through.
    pub zeros: u32,
    pub t: Time,
}

/// The logic a body writes, counted as it is written: what the Verilog target's estimate is
/// made of (`backend::verilog::estimate`), in the units yosys's mapping scales with.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Carry-chain bits of every add, subtract and negate: the result's width less the low
    /// bits one operand passes through.
    pub add_bits: u64,
    /// Bits of every two-way multiplexer (`select`).
    pub mux_bits: u64,
    /// Operand bits of every comparison.
    pub compare_bits: u64,
    /// 6-input LUTs of every ROM read: each result bit a function of the index bits.
    pub rom_luts: u64,
    /// `*` products, and the DSPs yosys gives them (an operand of at least 2 bits each and a
    /// product of at least 9: one DSP48E2 per 27 x 18 tile).
    pub multipliers: u64,
    pub dsp: u64,
    /// Adder bits of every `*` written as shifts and adds (a constant's signed digits less one,
    /// times the data's width; two data operands, their widths multiplied): what the products
    /// cost where yosys does not give them a DSP.
    pub product_bits: u64,
    /// Block RAMs (18 Kb) of the table reads a register takes directly (`registered`): yosys
    /// makes such a read synchronous and puts a table of more than 8 Kb in a RAMB18E2.
    pub bram_18k: u64,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.add_bits += o.add_bits;
        self.mux_bits += o.mux_bits;
        self.compare_bits += o.compare_bits;
        self.rom_luts += o.rom_luts;
        self.multipliers += o.multipliers;
        self.dsp += o.dsp;
        self.product_bits += o.product_bits;
        self.bram_18k += o.bram_18k;
    }
}

impl Val {
    pub fn width(&self) -> u32 {
        signed_bits((self.lo, self.hi))
    }
    pub fn is_const(&self) -> bool {
        self.lo == self.hi
    }
    /// The same bits read in other units (an adder graph's integer output as the product it is).
    pub fn with_frac(&self, frac: i32) -> Val {
        Val {
            frac,
            ..self.clone()
        }
    }
}

/// A signed literal of `w` bits holding `v` (two's complement, in hex).
pub fn literal(v: i128, w: u32) -> String {
    let w = w.max(signed_bits((v, v)));
    let mask = if w >= 128 {
        u128::MAX
    } else {
        (1u128 << w) - 1
    };
    format!("{w}'sh{:x}", (v as u128) & mask)
}

/// The body of one module: wire declarations, one per value, named `<prefix><k>`.
pub struct Body {
    pub text: String,
    /// The lookup tables' functions, one per table (`rom`).
    pub functions: String,
    roms: Vec<(String, u32)>,
    prefix: String,
    next: usize,
    /// Products as shifts and adds instead of `*` (the distributed_arithmetic strategy: no
    /// multiplier for synthesis to map onto a DSP, data products included).
    pub lut_products: bool,
    /// The logic written so far.
    pub tally: Tally,
    /// A register stage after every this many adder levels (None: the module is one
    /// combinational stage). Operands from earlier stages are delayed to their reader's.
    pub pipe: Option<u32>,
    /// Flip-flop bits of the pipeline registers written (live bits: as `live_bits`).
    pub pipe_ff: u64,
    /// When each one-bit condition (a flag wire or a bit of a value) is ready.
    flags: HashMap<String, Time>,
    /// Registered copies: (signal, stage) -> register.
    delayed: HashMap<(String, u32), String>,
    /// The wires holding an adder's result (`adder`), and their declared widths.
    adders: HashMap<String, u32>,
    /// Adders kept from merging (`adder`); set where a cast is lossy.
    pub protect_adders: bool,
    /// A cast dropped bits (rounded, saturated or wrapped): see `adder`.
    pub lossy: bool,
    /// Table reads: the wire, its LUTs (as counted in `tally.rom_luts`) and the table's bits.
    rom_reads: HashMap<String, (u64, u64)>,
    /// Wires that only select bits of another (shifts, wrapping): the wire they read.
    wiring: HashMap<String, String>,
}

impl Body {
    pub fn new(prefix: &str) -> Body {
        Body {
            text: String::new(),
            functions: String::new(),
            roms: Vec::new(),
            prefix: prefix.to_string(),
            next: 0,
            lut_products: false,
            tally: Tally::default(),
            pipe: None,
            pipe_ff: 0,
            flags: HashMap::new(),
            delayed: HashMap::new(),
            adders: Default::default(),
            protect_adders: false,
            lossy: false,
            rom_reads: HashMap::new(),
            wiring: HashMap::new(),
        }
    }

    /// `sig` (a `bits`-wide value ready at stage `from`) as a register chain's copy ready at
    /// stage `to`, each stage's copy written once and shared by every reader.
    fn delay_signal(&mut self, sig: &str, bits: u32, signed: bool, from: u32, to: u32) -> String {
        let mut cur = sig.to_string();
        for s in from + 1..=to {
            let key = (sig.to_string(), s);
            if let Some(r) = self.delayed.get(&key) {
                cur = r.clone();
                continue;
            }
            let r = format!("{}p{}", self.prefix, self.next);
            self.next += 1;
            let decl = if signed {
                format!("reg signed [{}:0]", bits - 1)
            } else {
                "reg".to_string()
            };
            let _ = writeln!(
                self.text,
                "  {decl} {r};\n  always @(posedge clk) {r} <= {cur};"
            );
            self.delayed.insert(key, r.clone());
            cur = r;
        }
        cur
    }

    /// `v` as read at stage `stage` (at or after its own): a delayed copy, level 0.
    pub fn at_stage(&mut self, v: &Val, stage: u32) -> Val {
        if v.is_const() || v.t.stage >= stage {
            return v.clone();
        }
        let in_bram = u64::from(self.registered(v));
        let before = self.delayed.len();
        let expr = self.delay_signal(&v.expr, v.width(), true, v.t.stage, stage);
        // A first copy a block RAM holds costs no fabric flip-flops.
        let copies = (self.delayed.len() - before) as u64;
        self.pipe_ff += live_bits(v.lo, v.hi) * copies.saturating_sub(in_bram);
        Val {
            expr,
            t: Time { stage, level: 0 },
            ..v.clone()
        }
    }

    /// `v` is taken by a register as it is. A table read it only selects bits of becomes a
    /// synchronous read, which yosys builds as a block RAM when the table holds more than 8 Kb
    /// (measured on yosys 0.23: 512 x 17 and 1024 x 9 bits in a RAMB18E2, 512 x 16 and
    /// 1024 x 8 in LUTs): its LUTs leave the tally, its block RAMs join it. True when the
    /// register is then the block RAM's own (no fabric flip-flops).
    pub fn registered(&mut self, v: &Val) -> bool {
        let mut src = &v.expr;
        while let Some(s) = self.wiring.get(src) {
            src = s;
        }
        match self.rom_reads.remove(src) {
            Some((luts, bits)) if bits > 8192 => {
                self.tally.rom_luts -= luts;
                self.tally.bram_18k += bits.div_ceil(18 * 1024);
                true
            }
            _ => false,
        }
    }

    fn flag_time(&self, f: &str) -> Time {
        self.flags.get(f).copied().unwrap_or_default()
    }

    /// Condition `f` as read at stage `stage`.
    fn flag_at_stage(&mut self, f: &str, stage: u32) -> String {
        let t = self.flag_time(f);
        if t.stage >= stage {
            return f.to_string();
        }
        let before = self.delayed.len();
        let r = self.delay_signal(f, 1, false, t.stage, stage);
        self.pipe_ff += (self.delayed.len() - before) as u64;
        self.flags.insert(r.clone(), Time { stage, level: 0 });
        r
    }

    /// Values and conditions read together, each as read at the latest stage of theirs, and
    /// the time they are all ready (the deepest level at that stage).
    fn read_together(&mut self, vals: &[&Val], flags: &[&str]) -> (Vec<Val>, Vec<String>, Time) {
        let stage = vals
            .iter()
            .filter(|v| !v.is_const())
            .map(|v| v.t.stage)
            .chain(flags.iter().map(|f| self.flag_time(f).stage))
            .max()
            .unwrap_or(0);
        let flags: Vec<String> = flags.iter().map(|f| self.flag_at_stage(f, stage)).collect();
        let vals: Vec<Val> = vals.iter().map(|v| self.at_stage(v, stage)).collect();
        let level = vals
            .iter()
            .filter(|v| !v.is_const())
            .map(|v| v.t.level)
            .chain(flags.iter().map(|f| self.flag_time(f).level))
            .max()
            .unwrap_or(0);
        (vals, flags, Time { stage, level })
    }

    /// Operands of an adder (or comparator) read at a common stage, and the result's time: one
    /// level more than the deepest, or, past `pipe` levels, the operands registered first.
    fn adder_operands(&mut self, a: &Val, b: &Val) -> (Val, Val, Time) {
        let (mut v, _, t) = self.read_together(&[a, b], &[]);
        let (b, a) = (
            v.pop().expect("two operands"),
            v.pop().expect("two operands"),
        );
        match self.pipe {
            Some(n) if t.level + 1 > n => {
                let stage = t.stage + 1;
                let (a, b) = (self.at_stage(&a, stage), self.at_stage(&b, stage));
                (a, b, Time { stage, level: 1 })
            }
            _ => (
                a,
                b,
                Time {
                    level: t.level + 1,
                    ..t
                },
            ),
        }
    }

    /// A new wire of `width` bits for `expr`, holding values in [lo, hi], ready at `t`.
    fn wire_w(&mut self, width: u32, lo: i128, hi: i128, frac: i32, expr: &str, t: Time) -> Val {
        self.declare("", width, lo, hi, frac, expr, t)
    }

    /// An adder's result. yosys's alumacc merges an adder into its only reader when their
    /// widths agree, as they do once wreduce has trimmed the high bits a wrapping cast drops,
    /// and maps the merged multi-operand `$macc` on Xilinx to LUT6 and MUXF7 trees instead of
    /// carry chains (three_layer_keras in distributed arithmetic: 64,275 LUTs and 23,952 MUXF,
    /// 37% over the estimate). So in a module with a lossy cast (`protect_adders`) every
    /// adder is a kept wire (wreduce leaves it whole) and `adder_width` makes a reader one bit
    /// wider than an adder it would read whole (an explicitly extended operand is never the
    /// adder's whole signal): 39,846 LUTs; layers whose casts round or saturate gain 5 to 10%
    /// (conv1d_small_keras, json_every_op, keras_gru in DA). Where every sum is kept exact the
    /// protection costs LUTs (a 64x32 DA layer: 14,817 unprotected, 15,215 protected).
    fn adder(&mut self, width: u32, lo: i128, hi: i128, frac: i32, expr: &str, t: Time) -> Val {
        if lo == hi {
            return konst(lo, frac);
        }
        let attr = if self.protect_adders {
            "(* keep *) "
        } else {
            ""
        };
        let r = self.declare(attr, width, lo, hi, frac, expr, t);
        self.adders.insert(r.expr.clone(), width);
        r
    }

    /// The width of an adder whose result needs `w` bits: one more than an operand that is an
    /// adder's wire of at least `w` bits (read whole, it would merge).
    fn adder_width(&self, w: u32, ops: &[&Val]) -> u32 {
        if !self.protect_adders {
            return w;
        }
        ops.iter()
            .filter_map(|v| self.adders.get(&v.expr))
            .filter(|&&declared| declared >= w)
            .map(|&declared| declared + 1)
            .fold(w, u32::max)
    }

    #[allow(clippy::too_many_arguments)]
    fn declare(
        &mut self,
        attr: &str,
        width: u32,
        lo: i128,
        hi: i128,
        frac: i32,
        expr: &str,
        t: Time,
    ) -> Val {
        let name = format!("{}{}", self.prefix, self.next);
        self.next += 1;
        let _ = writeln!(
            self.text,
            "  {attr}wire signed [{}:0] {name} = {expr};",
            width - 1
        );
        Val {
            expr: name,
            lo,
            hi,
            frac,
            zeros: 0,
            t,
        }
    }

    fn wire(&mut self, lo: i128, hi: i128, frac: i32, expr: &str, t: Time) -> Val {
        if lo == hi {
            return konst(lo, frac);
        }
        self.wire_w(signed_bits((lo, hi)), lo, hi, frac, expr, t)
    }

    /// A one-bit condition wire ready at `t`.
    fn flag(&mut self, expr: &str, t: Time) -> String {
        let name = format!("{}{}", self.prefix, self.next);
        self.next += 1;
        let _ = writeln!(self.text, "  wire {name} = {expr};");
        self.flags.insert(name.clone(), t);
        name
    }

    /// Both conditions (`op` "&") or either ("|").
    pub fn join(&mut self, a: &str, op: char, b: &str) -> String {
        let (_, f, t) = self.read_together(&[], &[a, b]);
        self.flag(&format!("{} {op} {}", f[0], f[1]), t)
    }

    /// A value of type `ty` read from `bits` (a `ty.width`-bit slice of a module input).
    pub fn read(&mut self, bits: &str, ty: FixedType) -> Val {
        self.read_at(bits, ty, Time::default())
    }

    fn read_at(&mut self, bits: &str, ty: FixedType, t: Time) -> Val {
        let (lo, hi) = ty.raw_range();
        // An unsigned value into a signed wire one bit wider: the assignment zero-extends it.
        let expr = if ty.signed {
            format!("$signed({bits})")
        } else {
            format!("{{1'b0, {bits}}}")
        };
        self.wire_w(signed_bits((lo, hi)), lo, hi, ty.frac(), &expr, t)
    }

    /// `v` as exactly `w` bits of two's complement, for unsigned arithmetic modulo 2^w: its
    /// sign bit repeated (or its low bits, where the value fits fewer), a constant sized.
    ///
    /// Adders are written on explicitly extended operands rather than on `signed` ones: yosys's
    /// alumacc merges trees of signed adds into `$macc` cells whose mapping on Xilinx costs far
    /// more LUTs and wide multiplexers than carry chains (a 16x64 4-bit DA layer: 10,900 LUTs and
    /// 2,300 MUXF against 7,660 LUTs and none), and an explicit extension keeps each adder its own.
    pub fn ext(&self, v: &Val, w: u32) -> String {
        let wv = v.width();
        if v.is_const() {
            let mask = if w >= 128 {
                u128::MAX
            } else {
                (1u128 << w) - 1
            };
            return format!("{w}'h{:x}", (v.lo as u128) & mask);
        }
        match wv.cmp(&w) {
            std::cmp::Ordering::Equal => v.expr.clone(),
            std::cmp::Ordering::Less => {
                format!("{{{{{}{{{}[{}]}}}}, {}}}", w - wv, v.expr, wv - 1, v.expr)
            }
            std::cmp::Ordering::Greater => format!("{}[{}:0]", v.expr, w - 1),
        }
    }

    /// v * 2^k on the raw value (units unchanged).
    pub fn shl(&mut self, v: &Val, k: u32) -> Val {
        if k == 0 {
            return v.clone();
        }
        if v.is_const() {
            return konst(v.lo << k, v.frac);
        }
        let (lo, hi) = (v.lo << k, v.hi << k);
        let w = signed_bits((lo, hi));
        let expr = format!("{{{}, {k}'b0}}", self.ext(v, w - k));
        let r = self.wire(lo, hi, v.frac, &expr, v.t);
        self.wiring.insert(r.expr.clone(), v.expr.clone());
        Val {
            zeros: if r.is_const() { r.zeros } else { v.zeros + k },
            ..r
        }
    }

    /// v in units of 2^-frac (frac >= v.frac: exact).
    pub fn align(&mut self, v: &Val, frac: i32) -> Val {
        debug_assert!(frac >= v.frac);
        let k = (frac - v.frac) as u32;
        self.shl(v, k).with_frac(frac)
    }

    pub fn add(&mut self, a: &Val, b: &Val) -> Val {
        self.add_sub(a, b, false)
    }

    pub fn sub(&mut self, a: &Val, b: &Val) -> Val {
        self.add_sub(a, b, true)
    }

    fn add_sub(&mut self, a: &Val, b: &Val, sub: bool) -> Val {
        let f = a.frac.max(b.frac);
        let (a, b) = (self.align(a, f), self.align(b, f));
        if b.is_const() && b.lo == 0 {
            return a;
        }
        if a.is_const() && a.lo == 0 && !sub {
            return b;
        }
        let (a, b, t) = self.adder_operands(&a, &b);
        let (lo, hi) = if sub {
            (a.lo - b.hi, a.hi - b.lo)
        } else {
            (a.lo + b.lo, a.hi + b.hi)
        };
        let op = if sub { '-' } else { '+' };
        let w = self.adder_width(signed_bits((lo, hi)), &[&a, &b]);
        let expr = format!("{} {op} {}", self.ext(&a, w), self.ext(&b, w));
        let r = self.adder(w, lo, hi, f, &expr, t);
        if !r.is_const() {
            self.tally.add_bits += w.saturating_sub(a.zeros.max(b.zeros)) as u64;
        }
        Val {
            zeros: if r.is_const() {
                r.zeros
            } else {
                a.zeros.min(b.zeros)
            },
            ..r
        }
    }

    pub fn neg(&mut self, a: &Val) -> Val {
        if a.is_const() {
            return konst(-a.lo, a.frac);
        }
        let (lo, hi) = (-a.hi, -a.lo);
        let (a, _, t) = self.adder_operands(a, &konst(0, 0));
        let w = self.adder_width(signed_bits((lo, hi)), &[&a]);
        let expr = format!("{w}'h0 - {}", self.ext(&a, w));
        self.tally.add_bits += w.saturating_sub(a.zeros) as u64;
        let r = self.adder(w, lo, hi, a.frac, &expr, t);
        Val {
            zeros: a.zeros,
            ..r
        }
    }

    pub fn mul(&mut self, a: &Val, b: &Val) -> Val {
        let corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
        let (lo, hi) = (
            *corners.iter().min().unwrap(),
            *corners.iter().max().unwrap(),
        );
        let frac = a.frac + b.frac;
        if (a.is_const() && a.lo == 0) || (b.is_const() && b.lo == 0) {
            return konst(0, frac);
        }
        if a.is_const() && b.is_const() {
            return konst(a.lo * b.lo, frac);
        }
        if self.lut_products {
            // The partial products' sum is bounded by interval arithmetic, looser than the
            // product's corners; the value is the product, so its range is the corners (the
            // wire may be wider: its top bits then copy the sign, as every reader extends).
            let p = self.shift_add_product(a, b);
            return Val {
                lo: lo.max(p.lo),
                hi: hi.min(p.hi),
                ..p.with_frac(frac)
            };
        }
        let (a, b, t) = self.adder_operands(a, b);
        let (a, b) = (&a, &b);
        let (wa, wb) = (a.width().max(b.width()), a.width().min(b.width()));
        self.tally.multipliers += 1;
        self.tally.product_bits += match (a.is_const(), b.is_const()) {
            (true, _) => (csd(a.lo).len() as u64).saturating_sub(1) * b.width() as u64,
            (_, true) => (csd(b.lo).len() as u64).saturating_sub(1) * a.width() as u64,
            _ => (wa * wb) as u64,
        };
        if wb >= 2 && signed_bits((lo, hi)) >= 9 {
            self.tally.dsp += (wa.div_ceil(27) * wb.div_ceil(18)) as u64;
        }
        self.wire(lo, hi, frac, &format!("{} * {}", a.expr, b.expr), t)
    }

    /// a * b on the raw values as a sum of shifted copies: of the data operand by the constant's
    /// signed digits, or of one data operand by each bit of the other (the narrower: fewer
    /// partial products), its top bit weighing -2^(n-1) as two's complement does. Exact like
    /// every add here; the result's range is at most the product's corners.
    fn shift_add_product(&mut self, a: &Val, b: &Val) -> Val {
        let (a, b) = (a.with_frac(0), b.with_frac(0));
        let (mut plus, mut minus) = (Vec::new(), Vec::new());
        if a.is_const() || b.is_const() {
            let (c, x) = if a.is_const() { (a, b) } else { (b, a) };
            for (place, neg) in csd(c.lo) {
                let t = self.shl(&x, place);
                if neg { minus.push(t) } else { plus.push(t) }
            }
        } else {
            let (x, y) = if a.width() >= b.width() {
                (a, b)
            } else {
                (b, a)
            };
            // A value never negative has its sign bit 0: no partial product for it.
            let n = if y.lo >= 0 { y.width() - 1 } else { y.width() };
            for i in 0..n {
                let cond = self.bit(&y, i);
                let shifted = self.shl(&x, i);
                let pp = self.select(&cond, &shifted, &konst(0, 0));
                if y.lo < 0 && i + 1 == n {
                    minus.push(pp)
                } else {
                    plus.push(pp)
                }
            }
        }
        let p = self.sum(plus);
        let m = self.sum(minus);
        self.sub(&p, &m)
    }

    /// The exact sum of `vals` as a balanced tree (0 when empty).
    pub fn sum(&mut self, mut vals: Vec<Val>) -> Val {
        if vals.is_empty() {
            return konst(0, 0);
        }
        while vals.len() > 1 {
            let mut next = Vec::with_capacity(vals.len().div_ceil(2));
            for pair in vals.chunks(2) {
                next.push(match pair {
                    [a, c] => self.add(a, c),
                    [a] => a.clone(),
                    _ => unreachable!("chunks of two"),
                });
            }
            vals = next;
        }
        vals.pop().expect("one value left")
    }

    /// `a < b` (or `<=`, `>`...: `op`) on the values, as a one-bit wire.
    pub fn compare(&mut self, a: &Val, op: &str, b: &Val) -> String {
        let f = a.frac.max(b.frac);
        let (a, b) = (self.align(a, f), self.align(b, f));
        let (a, b, t) = self.adder_operands(&a, &b);
        self.tally.compare_bits += a.width().max(b.width()) as u64;
        self.flag(&format!("{} {op} {}", a.expr, b.expr), t)
    }

    /// cond ? a : b.
    pub fn select(&mut self, cond: &str, a: &Val, b: &Val) -> Val {
        let f = a.frac.max(b.frac);
        let (a, b) = (self.align(a, f), self.align(b, f));
        if a == b {
            return a;
        }
        let (v, c, t) = self.read_together(&[&a, &b], &[cond]);
        let (a, b, cond) = (&v[0], &v[1], &c[0]);
        let (lo, hi) = (a.lo.min(b.lo), a.hi.max(b.hi));
        self.tally.mux_bits += signed_bits((lo, hi)) as u64;
        self.wire(lo, hi, f, &format!("{cond} ? {} : {}", a.expr, b.expr), t)
    }

    /// floor(v / 2^s) on the raw value (s < 0: a left shift), units unchanged.
    pub fn shr_floor(&mut self, v: &Val, s: i32) -> Val {
        if s <= 0 {
            return self.shl(v, (-s) as u32);
        }
        if v.is_const() {
            return konst(v.lo >> s, v.frac);
        }
        let r = self.wire(
            v.lo >> s,
            v.hi >> s,
            v.frac,
            &format!("{} >>> {s}", v.expr),
            v.t,
        );
        self.wiring.insert(r.expr.clone(), v.expr.clone());
        r
    }

    /// v clamped to [lo, hi] (raw, v's units).
    pub fn clamp(&mut self, v: &Val, lo: i128, hi: i128) -> Val {
        let mut r = v.clone();
        if r.lo < lo {
            let c = self.compare(&r, "<", &konst(lo, r.frac));
            let s = self.select(&c, &konst(lo, r.frac), &r);
            r = Val { lo, ..s };
        }
        if r.hi > hi {
            let c = self.compare(&r, ">", &konst(hi, r.frac));
            let s = self.select(&c, &konst(hi, r.frac), &r);
            r = Val { hi, ..s };
        }
        r
    }

    /// Bit `i` of `v` (past its width, the sign bit).
    fn bit(&mut self, v: &Val, i: u32) -> String {
        let b = format!("{}[{}]", v.expr, i.min(v.width() - 1));
        self.flags.insert(b.clone(), v.t);
        b
    }

    /// Entry `index` of a constant table (`index` within 0..raw.len()), as a ROM: a function
    /// with a case per entry, declared once per table (`key` names it) and read by every
    /// lookup, each of which yosys builds as its own LUTs (a read port each, as Vitis does for
    /// an unrolled lookup).
    pub fn rom(&mut self, key: &str, raw: &[i128], frac: i32, index: &Val) -> Val {
        let (lo, hi) = (
            *raw.iter().min().unwrap_or(&0),
            *raw.iter().max().unwrap_or(&0),
        );
        let w = signed_bits((lo, hi));
        let ib = signed_bits((0, raw.len().max(2) as i128 - 1)) - 1;
        let name = match self.roms.iter().position(|(k, _)| k == key) {
            Some(k) => format!("{}rom{k}", self.prefix),
            None => {
                let name = format!("{}rom{}", self.prefix, self.roms.len());
                self.roms.push((key.to_string(), w));
                let f = &mut self.functions;
                let _ = writeln!(
                    f,
                    "  function signed [{}:0] {name};\n    input [{}:0] i;\n    case (i)",
                    w - 1,
                    ib - 1
                );
                for (k, &v) in raw.iter().enumerate() {
                    let _ = writeln!(f, "      {k}: {name} = {};", literal(v, w));
                }
                let _ = writeln!(
                    f,
                    "      default: {name} = {};\n    endcase\n  endfunction",
                    literal(0, w)
                );
                name
            }
        };
        if lo == hi {
            return konst(lo, frac);
        }
        // The index's low bits: it lies in 0..len.
        let index = if !index.is_const() && index.width() < ib {
            self.wire_w(ib, index.lo, index.hi, index.frac, &index.expr, index.t)
        } else {
            index.clone()
        };
        let i = format!("{}[{}:0]", index.expr, ib - 1);
        let i = if index.is_const() {
            format!("{ib}'d{}", index.lo)
        } else {
            i
        };
        let r = self.wire_w(w, lo, hi, frac, &format!("{name}({i})"), index.t);
        if !index.is_const() {
            let luts = rom_luts(raw, w);
            self.tally.rom_luts += luts;
            self.rom_reads
                .insert(r.expr.clone(), (luts, raw.len() as u64 * w as u64));
        }
        r
    }

    /// `FixedType::cast`: v rounded into `ty`'s lsb by its quantization mode, then its overflow
    /// mode applied; the raw value of `ty`. No logic where neither can happen.
    pub fn cast(&mut self, v: &Val, ty: FixedType) -> Val {
        let tf = ty.frac();
        if v.is_const() {
            return konst(ty.cast(crate::ir::Exact::new(v.lo, v.frac)), tf);
        }
        let shift = v.frac - tf;
        let q = if shift > 0 {
            // Dropping bits known to be zero (a value shifted into a finer lsb) loses nothing.
            if shift as u32 > v.zeros {
                self.lossy = true;
            }
            let s = shift as u32;
            // Bits below the lsb: wide enough that the rounding bits exist.
            let v = if s + 1 >= v.width() {
                self.wire_w(s + 2, v.lo, v.hi, v.frac, &v.expr, v.t)
            } else {
                v.clone()
            };
            let floor = self.shr_floor(&v, shift).with_frac(tf);
            let half = self.bit(&v, s - 1);
            let rest = if s >= 2 {
                format!("(|{}[{}:0])", v.expr, s - 2)
            } else {
                "1'b0".to_string()
            };
            let neg = self.bit(&v, v.width() - 1);
            let odd = self.bit(&v, s);
            let up = match ty.quant {
                Quant::Trn => None,
                Quant::TrnZero => Some(format!("{neg} & ({half} | {rest})")),
                Quant::Rnd => Some(half),
                Quant::RndZero => Some(format!("{half} & ({rest} | {neg})")),
                Quant::RndMinInf => Some(format!("{half} & {rest}")),
                Quant::RndInf => Some(format!("{half} & ({rest} | !{neg})")),
                Quant::RndConv => Some(format!("{half} & ({rest} | {odd})")),
            };
            match up {
                None => floor,
                Some(up) => {
                    let up = self.flag(&up, v.t);
                    // (Not `{1'b0, up}` nor `~` inside it: Verilator 5.006 leaves the inverted
                    // bits above bit 0 of an inlined `~x` in a concatenation.)
                    let one = self.wire_w(2, 0, 1, 0, &format!("{up} ? 2'sd1 : 2'sd0"), v.t);
                    let (floor, one, t) = self.adder_operands(&floor, &one);
                    self.tally.add_bits += signed_bits((floor.lo, floor.hi + 1)) as u64;
                    self.adder(
                        signed_bits((floor.lo, floor.hi + 1)),
                        floor.lo,
                        floor.hi + 1,
                        tf,
                        &format!("{} + {}", floor.expr, one.expr),
                        t,
                    )
                }
            }
        } else {
            self.shl(v, (-shift) as u32).with_frac(tf)
        };
        self.overflow(&q, ty)
    }

    /// `ty`'s overflow mode on a raw value already in its lsb.
    fn overflow(&mut self, q: &Val, ty: FixedType) -> Val {
        let (lo, hi) = ty.raw_range();
        let sym = ty.overflow == Overflow::SatSym && ty.signed;
        if q.lo >= lo && q.hi <= hi && !(sym && q.lo == lo) {
            return q.clone();
        }
        self.lossy = true;
        let f = q.frac;
        match ty.overflow {
            Overflow::Wrap => {
                let w = ty.width;
                // The low `w` bits, read as `ty` reads them.
                let q = if q.width() < w {
                    self.wire_w(w, q.lo, q.hi, f, &q.expr, q.t)
                } else {
                    q.clone()
                };
                let bits = format!("{}[{}:0]", q.expr, w - 1);
                let r = self.read_at(&bits, ty, q.t);
                self.wiring.insert(r.expr.clone(), q.expr.clone());
                r
            }
            Overflow::Sat => self.clamp(q, lo, hi),
            Overflow::SatSym if !ty.signed => self.clamp(q, lo, hi),
            Overflow::SatSym => {
                let r = self.clamp(q, -hi, hi);
                // clamp's lower bound -hi also takes lo itself to -max, as AP_SAT_SYM does.
                Val { lo: -hi, ..r }
            }
            Overflow::SatZero => {
                let below = self.compare(q, "<", &konst(lo, f));
                let above = self.compare(q, ">", &konst(hi, f));
                let out = self.join(&below, '|', &above);
                let s = self.select(&out, &konst(0, f), q);
                Val {
                    lo: s.lo.max(lo),
                    hi: s.hi.min(hi),
                    ..s
                }
            }
        }
    }
}

/// A constant (raw, in units of 2^-frac).
/// 6-input LUTs of one read of a table of `w`-bit entries: per result bit, the 64-entry blocks
/// of the table where that bit is not constant (yosys needs no LUT for a constant block; the
/// multiplexers joining blocks are MUXF7/F8, not LUTs).
fn rom_luts(raw: &[i128], w: u32) -> u64 {
    let mut n = 0;
    for bit in 0..w {
        for block in raw.chunks(64) {
            let first = (block[0] >> bit) & 1;
            if block.iter().any(|v| (v >> bit) & 1 != first) {
                n += 1;
            }
        }
    }
    n
}

pub fn konst(raw: i128, frac: i32) -> Val {
    Val {
        expr: literal(raw, 1),
        lo: raw,
        hi: raw,
        frac,
        zeros: if raw == 0 { 127 } else { raw.trailing_zeros() },
        t: Time::default(),
    }
}

/// Bits of a register holding values in [lo, hi] that are neither constant nor copies of the
/// sign bit (yosys keeps one flip-flop per such bit).
pub fn live_bits(lo: i128, hi: i128) -> u64 {
    if lo == hi {
        0
    } else if lo >= 0 {
        (128 - hi.leading_zeros()) as u64
    } else {
        signed_bits((lo, hi)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_twos_complement_hex() {
        assert_eq!(literal(5, 1), "4'sh5");
        assert_eq!(literal(-5, 1), "4'shb");
        assert_eq!(literal(0, 1), "1'sh0");
        assert_eq!(literal(-1, 8), "8'shff");
    }
}
