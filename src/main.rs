//! `ipc-lab`: parse the command line, run the plan, map the result to an exit code.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let plan = match ipc_lab::cli::parse(std::env::args_os()) {
        Ok(plan) => plan,
        Err(exit) => {
            if exit.to_stdout {
                print!("{}", exit.message);
            } else {
                eprintln!("{}", exit.message);
            }
            return ExitCode::from(exit.code as u8);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match ipc_lab::app::run(&plan, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            eprintln!("{}", e.message(plan.lang));
            ExitCode::FAILURE
        }
    }
}
