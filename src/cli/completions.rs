//! `tripline completions SHELL`: the completion script of a shell, written
//! by clap_complete from the same argument definitions `--help` reads, so
//! the two never disagree.

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

pub fn run(shell: Shell) -> u8 {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tripline", &mut script);
    let text = String::from_utf8_lossy(&script);
    match super::write::print(&text) {
        Ok(()) => 0,
        Err(code) => code,
    }
}
