//! The `storyline` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    storyline::cli::main()
}
