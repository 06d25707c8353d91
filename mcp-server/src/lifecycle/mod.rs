//! A task's life behind the load balancer: noticing a drain ([`drain`], [`ecs_metadata`]) and
//! the SSE streams that a drain, a shutdown or a deadline ends ([`streams`]).

pub mod drain;
pub mod ecs_metadata;
pub mod streams;
