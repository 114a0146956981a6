//! Generated gRPC types and services. No logic lives here.

#![allow(clippy::all, unused_qualifications, rust_2018_idioms, missing_docs)]

pub mod admin {
    pub mod v1 {
        tonic::include_proto!("bfe.admin.v1");
    }
}

pub mod discovery {
    pub mod v1 {
        tonic::include_proto!("bfe.discovery.v1");
    }
}

pub mod stats {
    pub mod v1 {
        tonic::include_proto!("bfe.stats.v1");
    }
}
