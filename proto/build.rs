//! Compiles the protos with protox (pure Rust): the build needs no system `protoc`.

fn main() -> std::io::Result<()> {
    let files = [
        "bfe/admin/v1/admin.proto",
        "bfe/discovery/v1/discovery.proto",
        "bfe/stats/v1/stats.proto",
    ];
    let fds = protox::compile(files, ["."]).map_err(std::io::Error::other)?;
    tonic_prost_build::configure().compile_fds(fds)?;
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    Ok(())
}
