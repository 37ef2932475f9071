//! `gradedesk-desktop`: the window. Kept apart from the `gradedesk` CLI binary so that only
//! this process links GTK and WebKit.

use std::process::ExitCode;

use clap::Parser;
use gradedesk::cli::{self, Cli};

fn main() -> ExitCode {
    let args = Cli::parse();
    if args.command.is_some() {
        eprintln!("error: gradedesk-desktop only opens the window; run `gradedesk` for commands");
        return ExitCode::FAILURE;
    }
    gradedesk::desktop::run(args.data_dir.unwrap_or_else(cli::default_data_dir))
}
