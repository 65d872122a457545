//! The `textsift` command: parse, check, run, and turn the result into an exit code.

use clap::Parser;
use textsift::cli::{Cli, Command};
use textsift::config::Config;
use textsift::exit_codes::ExitCode;
use textsift::pipeline::{self, Outcome};

fn main() -> std::process::ExitCode {
    textsift::allocator::return_large_buffers();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Clean(args) => clean(*args),
        Command::Eval(args) => eval(args),
    };
    code.into()
}

fn clean(args: textsift::cli::CleanArgs) -> ExitCode {
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("textsift: {e}");
            return ExitCode::Usage;
        }
    };
    let report_error = |e: &textsift::error::Error| eprintln!("textsift: {e}");
    match pipeline::run(&config, pipeline::read_stdin, &report_error) {
        Err(e) => {
            eprintln!("textsift: {e}");
            ExitCode::Usage
        }
        Ok(outcome) => {
            if config.stats {
                let Outcome { totals, inputs, failures, phases } = &outcome;
                let peak_memory = textsift::stats::process_peak_memory();
                eprint!("{}", textsift::stats::render(totals, *inputs, *failures, phases, peak_memory));
            }
            if outcome.failures > 0 {
                ExitCode::SomeFailed
            } else {
                ExitCode::Success
            }
        }
    }
}

fn eval(args: textsift::cli::EvalArgs) -> ExitCode {
    match textsift::eval::evaluate(&args.clean_dir, &args.annotations, args.per_page) {
        Ok(scores) => {
            for miss in &scores.misses {
                println!("{miss}");
            }
            println!("{}", scores.summary());
            ExitCode::Success
        }
        Err(e) => {
            eprintln!("textsift: {e}");
            ExitCode::Usage
        }
    }
}
