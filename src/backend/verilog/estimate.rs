//! The Verilog target's estimate: the design is written in memory and its logic counted as it
//! is written (`rtl::Tally`: adder, multiplexer and comparator bits, ROM LUTs, `*` products, and
//! the flip-flops that hold information), then priced by coefficients calibrated on yosys
//! synth_xilinx (UltraScale+) of designs built by this backend (`scripts/calibrate_rtl.py`;
//! docs/estimator.md has the table). Unlike the Vitis estimate there is no scheduler to model:
//! the counts are the netlist yosys reads, and the latency is the design's stated one.

use super::rtl::Tally;
use super::{Design, check_design, design};
use crate::error::Result;
use crate::estimate::{Cost, Estimate, LayerEstimate, Products};
use crate::ir::Model;
use crate::kernels::LayerPlan;

/// LUTs per unit of each kind of logic, fitted on yosys 0.23 synth_xilinx -family xcup of 18
/// designs (scripts/calibrate_rtl.py: dense layers in both strategies, a convolution, every
/// activation family, static LSTM) and checked on 12 held out (docs/estimator.md). An adder bit
/// is a LUT feeding a carry chain, a little less where yosys folds a constant operand; a
/// multiplexer bit costs nothing of its own: yosys folds it into the LUT of the adder bit or
/// register it feeds (a partial product's AND, a clamp's select before a cast); a comparison
/// shares its LUTs the same way; a ROM's non-constant 64-entry block is a LUT6 with a share of
/// MUXF7/F8 past it; a `*` product's shift-add bits count for nothing, as yosys gives most of
/// them a DSP or folds them into the adder tree that reads them.
const LUT_PER_ADD_BIT: f64 = 0.881;
const LUT_PER_MUX_BIT: f64 = 0.0;
const LUT_PER_COMPARE_BIT: f64 = 0.852;
const LUT_PER_ROM_LUT: f64 = 0.7;
const LUT_PER_PRODUCT_BIT: f64 = 0.013;

fn luts(t: &Tally) -> u64 {
    (t.add_bits as f64 * LUT_PER_ADD_BIT
        + t.mux_bits as f64 * LUT_PER_MUX_BIT
        + t.compare_bits as f64 * LUT_PER_COMPARE_BIT
        + t.rom_luts as f64 * LUT_PER_ROM_LUT
        + t.product_bits as f64 * LUT_PER_PRODUCT_BIT)
        .round() as u64
}

/// The estimate of the Verilog design of `model` at `clock` ns against `part`.
pub fn estimate(
    model: &Model,
    plans: &[LayerPlan],
    io: crate::config::IoType,
    clock: f64,
    part: &crate::parts::Part,
) -> Result<Estimate> {
    check_design(model, plans, io)?;
    let Design {
        latency,
        layers: logic,
        top_ff,
        ..
    } = design(model, plans)?;
    let mut total = Cost {
        ff: top_ff,
        ..Cost::default()
    };
    let mut layers = Vec::new();
    for l in &logic {
        let node = model.node(l.node);
        let cost = Cost {
            lut: luts(&l.tally),
            ff: l.ff,
            // An upper bound: yosys maps some `*` products to LUTs instead (11% to 98% of them
            // got a DSP in the calibration designs).
            dsp: l.tally.dsp,
            bram_18k: l.tally.bram_18k,
            ..Cost::default()
        };
        total.lut += cost.lut;
        total.ff += cost.ff;
        total.dsp += cost.dsp;
        total.bram_18k += cost.bram_18k;
        layers.push(LayerEstimate {
            name: node.name.clone(),
            kind: node.op.kind(),
            cost,
            products: Products::default(),
            latency_cycles: l.latency as u64,
            ii: 1,
        });
    }
    // The top delays every output to the slowest one's stage: all come out together.
    let outputs = crate::estimate::output_latencies(model, clock, |_| latency as u64);
    Ok(Estimate {
        utilisation: crate::estimate::utilisation(&total, part),
        layers,
        total,
        latency_cycles: latency as u64,
        latency_ns: latency as f64 * clock,
        outputs,
        ii: 1,
    })
}
