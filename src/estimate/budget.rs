//! Budgets for CI: limits on the estimate, and the figures over them.

use super::*;

/// Limits for CI (`--budget dsp=60%,lut=50%,bram=80%,latency=400ns,ii=1`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budget {
    /// (resource, limit): a percent of the part, or a count.
    pub resources: Vec<(Resource, Limit)>,
    pub latency_ns: Option<f64>,
    pub latency_cycles: Option<u64>,
    pub ii: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resource {
    Dsp,
    Lut,
    Ff,
    Bram,
    Uram,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Percent(f64),
    Count(u64),
}

impl Budget {
    pub fn parse(s: &str) -> Result<Budget> {
        let bad = |why: String| {
            crate::error::Error::input(format!(
                "budget '{s}': {why}; expected e.g. dsp=60%,lut=50%,ff=40%,bram=80%,uram=10,latency=400ns (or cycles),ii=1"
            ))
        };
        let mut b = Budget::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| bad(format!("'{item}' has no '='")))?;
            let v = v.trim();
            let number = |t: &str| {
                t.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| bad(format!("'{v}' is not a number")))
            };
            let limit = || -> Result<Limit> {
                Ok(match v.strip_suffix('%') {
                    Some(p) => Limit::Percent(number(p)?),
                    None => Limit::Count(number(v)? as u64),
                })
            };
            match k.trim() {
                "dsp" => b.resources.push((Resource::Dsp, limit()?)),
                "lut" => b.resources.push((Resource::Lut, limit()?)),
                "ff" => b.resources.push((Resource::Ff, limit()?)),
                "bram" => b.resources.push((Resource::Bram, limit()?)),
                "uram" => b.resources.push((Resource::Uram, limit()?)),
                "latency" => match (v.strip_suffix("ns"), v.strip_suffix("cycles")) {
                    (Some(ns), _) => b.latency_ns = Some(number(ns)?),
                    (_, Some(c)) => b.latency_cycles = Some(number(c)? as u64),
                    _ => return Err(bad(format!("latency '{v}' needs a unit, ns or cycles"))),
                },
                "ii" => b.ii = Some(number(v)? as u64),
                other => return Err(bad(format!("unknown figure '{other}'"))),
            }
        }
        Ok(b)
    }

    /// What is over: (figure, estimate, limit) in words.
    pub fn over(&self, e: &Estimate) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for (r, lim) in &self.resources {
            let (name, used, pct) = match r {
                Resource::Dsp => ("DSP", e.total.dsp, e.utilisation[0]),
                Resource::Lut => ("LUT", e.total.lut, e.utilisation[1]),
                Resource::Ff => ("FF", e.total.ff, e.utilisation[2]),
                Resource::Bram => ("BRAM_18K", e.total.bram_18k, e.utilisation[3]),
                Resource::Uram => ("URAM", e.total.uram, e.utilisation[4]),
            };
            match *lim {
                Limit::Percent(p) if pct > p => {
                    out.push((name.into(), format!("{used} ({pct:.1}%)"), format!("{p}%")))
                }
                Limit::Count(c) if used > c => {
                    out.push((name.into(), used.to_string(), c.to_string()))
                }
                _ => {}
            }
        }
        if let Some(ns) = self.latency_ns
            && e.latency_ns > ns
        {
            out.push((
                "latency".into(),
                format!("{} ns", e.latency_ns),
                format!("{ns} ns"),
            ));
        }
        if let Some(c) = self.latency_cycles
            && e.latency_cycles > c
        {
            out.push((
                "latency".into(),
                format!("{} cycles", e.latency_cycles),
                format!("{c} cycles"),
            ));
        }
        if let Some(ii) = self.ii
            && e.ii > ii
        {
            out.push(("II".into(), e.ii.to_string(), ii.to_string()));
        }
        out
    }
}
