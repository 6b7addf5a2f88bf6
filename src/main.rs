//! The `tripline` binary: all of it lives in the library (`cli::main`).
#![forbid(unsafe_code)]

/// The stack the work runs on. A rule's `and`/`or` chain is walked
/// recursively, as deep as it is long (at most 100,000 conditions, E0205):
/// the platform's 8 MB main thread is too tight for that in every build.
/// Only the pages a deep rule touches are ever committed.
const STACK: usize = 512 << 20;

/// glibc's malloc gives each thread but the main one an arena of its own,
/// and on that arena the work (run on the thread above, and `eval`'s
/// workers) spent a third of its time in `malloc_consolidate` and
/// `unlink_chunk`; mimalloc's per-thread heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let worker = std::thread::Builder::new()
        .name("tripline".to_string())
        .stack_size(STACK)
        .spawn(tripline::cli::main);
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => code,
        // A panic has already printed its message.
        Ok(Err(_)) => std::process::ExitCode::from(101),
        Err(err) => {
            eprintln!("error: cannot start: {err}");
            std::process::ExitCode::from(2)
        }
    }
}
