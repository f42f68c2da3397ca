//! One module per subcommand: argument struct (clap) and `run`.

pub mod bench;
pub mod checkpoint;
pub mod forward;
pub mod gradient;
pub mod invert;
pub mod model;
pub mod plot;
pub mod sample;
