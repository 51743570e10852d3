//! `ipc-lab bench`: runs the measurements with a progress bar on the terminal, then
//! prints the table (or JSON lines) and writes the plot. `ipc-lab bench-peer` is the
//! peer process it starts.

use std::fs::File;
use std::io::Write;

use indicatif::{ProgressBar, ProgressStyle};

use super::AppError;
use crate::bench::{self, report, svg, BenchPlan};
use crate::cli::plan::{BenchPeerPlan, Plan};

pub(super) fn run(plan: &Plan, bench: &BenchPlan, out: &mut dyn Write) -> Result<(), AppError> {
    // Opened first: a path that cannot be written fails now, not after a minute of work.
    let plot = match &bench.plot {
        Some(path) => {
            let file = File::create(path).map_err(|source| AppError::Plot { path: path.clone(), source })?;
            Some((path, file))
        }
        None => None,
    };
    // indicatif draws on stderr only when it is a terminal: piped runs stay plain.
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let results = bench::run(bench, &mut |step| {
        bar.set_length(step.total as u64);
        bar.set_position(step.done as u64);
        bar.set_message(step.what.to_string());
    });
    bar.finish_and_clear();
    let results = results.map_err(AppError::Bench)?;
    let table =
        if bench.json { report::write_json(out, &results) } else { report::write_table(out, &results, plan.lang) };
    // Written whatever became of the table: a reader that went away early (`| head`) must
    // not cost the plot, nor a plot that cannot be written the table.
    if let Some((path, mut file)) = plot {
        let written = file.write_all(svg::render(&results, plan.lang).as_bytes());
        if let Err(source) = written {
            drop(file);
            // Not a half-written chart left behind (only a file: `/dev/full` stays).
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
                let _ = std::fs::remove_file(path);
            }
            return Err(AppError::Plot { path: path.clone(), source });
        }
    }
    table.map_err(AppError::Output)
}

pub(super) fn peer(plan: &Plan, peer: &BenchPeerPlan, out: &mut dyn Write) -> Result<(), AppError> {
    let (kind, command) = (peer.transport, plan.command_line.clone());
    bench::peer::serve(
        plan.domain,
        bench::peer::Subscribe { kind, topic: &peer.topic, loaned: peer.loaned },
        command,
        out,
    )
    .map_err(AppError::Bench)
}
