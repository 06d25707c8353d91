//! The Lambda entry point: one SDK client and one HTTP client per cold start.

use std::sync::Arc;

use alb_timeout_lambda::elb::SdkLoadBalancers;
use alb_timeout_lambda::handler::Handler;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LOG_LEVEL")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    tracing::info!(
        step = "cold start",
        init_ms = started.elapsed().as_secs_f64() * 1000.0,
        "clients ready; waiting for invocations"
    );
    let handler = Handler {
        api: Arc::new(SdkLoadBalancers(
            aws_sdk_elasticloadbalancingv2::Client::new(&config),
        )),
        http: reqwest::Client::builder().build()?,
    };
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move {
            let deadline = event.context.deadline();
            handler.invoke(event.payload, deadline).await
        }
    }))
    .await
}
