//! Backends: each reads the IR (after passes) and produces an artefact.

pub mod vitis;
