//! `ipc-lab`: parse the command line, run the plan, map the result to an exit code.

#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let plan = match ipc_lab::cli::parse(std::env::args_os()) {
        Ok(plan) => plan,
        Err(exit) => {
            // Written, not printed: a closed stdout or stderr must not turn into a panic.
            let _ = if exit.to_stdout {
                write!(std::io::stdout(), "{}", exit.message)
            } else {
                writeln!(std::io::stderr(), "{}", exit.message)
            };
            return ExitCode::from(exit.code as u8);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match ipc_lab::app::run(&plan, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            let _ = writeln!(std::io::stderr(), "{}", e.message(plan.lang));
            ExitCode::FAILURE
        }
    }
}
