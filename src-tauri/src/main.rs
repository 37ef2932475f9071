//! `gradedesk`: the window with no subcommand, the headless CLI with one.

use std::process::ExitCode;

use clap::Parser;
use gradedesk::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let args = Cli::parse();
    let data_dir = args.data_dir.unwrap_or_else(cli::default_data_dir);
    let Some(command) = args.command else {
        return gradedesk::desktop::run(data_dir);
    };
    // The worker's log lines are its output; other commands keep stderr for results.
    let verbose = matches!(command, Command::Worker(_));
    let _guard = gradedesk::logging::init(&data_dir.join("logs"), verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(cli::run(&data_dir, command))
}
