//! The control plane's integration tests: one binary, one module per area. Every test runs
//! twice, on a temp SQLite file and on a throwaway PostgreSQL database.

mod support;

mod audit;

mod authz;
mod binary;
mod changes;
mod concurrency;
mod crud;
mod etag;
mod fleet;
mod fleet_scope;
mod input;
mod isolation;
mod openapi;
mod ownership;
mod recovery;
mod scope;
mod socket;
mod versions;
mod writes;
