//! The `synctl` binary: parse the command line and hand over to the library.

fn main() -> std::process::ExitCode {
    synctl::cli::main()
}
