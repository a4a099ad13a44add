//! The `synctl` binary: parse the command line and hand over to the library.

// The spec parser and model allocate many small nodes; mimalloc halves their cost.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    synctl::cli::main()
}
