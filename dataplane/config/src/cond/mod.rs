//! BFE's condition language (being written).
