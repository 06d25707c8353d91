//! Metrics, end to end on the real binary: the EMF lines on stdout are valid EMF (the
//! specification's schema and rules, checked by jsonschema) and count what happened; `/metrics`
//! on its own listener parses with the official Prometheus client's parser, follows the naming
//! rules and agrees with `/health`; the public port never serves it.

#[path = "metrics/emf.rs"]
mod emf;
#[path = "metrics/prometheus.rs"]
mod prometheus;
#[path = "metrics/traffic.rs"]
mod traffic;
