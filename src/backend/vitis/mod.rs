//! Vitis HLS backend.
