//! Shared fixtures for the micro-benchmarks (being written).
