#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    tripline::cli::main()
}
