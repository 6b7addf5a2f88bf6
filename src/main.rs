//! The `tripline` binary: all of it lives in the library (`cli::main`).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    tripline::cli::main()
}
