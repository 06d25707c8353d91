//! Test harness: builds the workspace's binaries, runs them as child processes on loopback, and
//! talks to them over real sockets. Also finds the external tools `scripts/install-test-tools.sh`
//! installs, failing with instructions (never skipping) when one is missing.

pub mod generated;
pub mod http;
pub mod load;
pub mod oidc;
pub mod process;
pub mod relevance;
pub mod stdio;
pub mod tools;

pub use process::Server;
