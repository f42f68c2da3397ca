//! The `pdeinv` binary: a thin shell over [`pdeinv_cli::main`], which parses
//! the command line, runs the command and maps errors to exit codes.

fn main() {
    pdeinv_cli::main()
}
