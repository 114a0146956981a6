//! Compiled TLS settings: certificates parsed once, rules indexed by VIP and SNI.

/// Everything the data plane's TLS listener needs from one snapshot.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {}
