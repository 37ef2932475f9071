//! `gradedesk`: the headless CLI. With no subcommand it hands over to the window binary
//! (`gradedesk-desktop`, beside this one), so that a script's `gradedesk crop` never pays for
//! loading GTK and WebKit — those libraries alone cost more than the whole crop.

use std::process::ExitCode;

use clap::Parser;
use gradedesk::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let args = Cli::parse();
    let data_dir = args.data_dir.unwrap_or_else(cli::default_data_dir);
    let Some(command) = args.command else {
        return cli::open_window();
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
