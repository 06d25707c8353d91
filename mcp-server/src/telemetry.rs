//! Metrics out of the process: CloudWatch Embedded Metric Format lines on stdout
//! (`METRICS_EMF_INTERVAL`) and Prometheus text on a listener of its own (`METRICS_PORT`).
//!
//! Every layer records through [`crate::meters`] (the `metrics` facade); this module installs
//! one recorder that fans out to both exporters, and sets the gauges (connections, streams,
//! sessions, drain, memory) from the server's state just before each export, so a gauge is
//! never stale and costs nothing between exports. With both off, no recorder is installed and
//! recording is a no-op.
//!
//! Crates: `metrics` (the facade), `metrics-exporter-prometheus` (its Prometheus recorder and
//! text encoder) and `metrics-util` (the fan-out and the registry under the EMF recorder). The
//! EMF line is ours: it is CloudWatch's format, and the crates that write it buffer every
//! histogram sample until the next line.

mod emf;
mod histogram;
mod prometheus;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::layers::FanoutBuilder;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::access::budget::resident_bytes;
use crate::app::App;
use crate::config::Config;
use crate::meters;

pub use emf::Dimensions;

/// Latency buckets of the Prometheus histogram, in seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often the Prometheus recorder folds recorded samples into its buckets.
const UPKEEP: Duration = Duration::from_secs(5);

/// How long writing one EMF line may take: a stdout nobody reads must not hold the exporter,
/// nor the exit at shutdown (ECS would wait for its stop timeout, then kill the task).
const WRITE_DEADLINE: Duration = Duration::from_secs(2);

/// The exporters configured, before the server runs.
pub struct Telemetry {
    emf: Option<(emf::EmfWriter, Duration)>,
    prometheus: Option<(PrometheusHandle, TcpListener)>,
}

/// The exporters running; [`Running::finish`] writes the last EMF line.
pub struct Running {
    emf: Option<Arc<tokio::sync::Mutex<emf::EmfWriter>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Telemetry {
    /// Installs the recorder for what `config` turns on (nothing when both are off) and binds
    /// the Prometheus listener; `task` is the `Task` dimension. Fails when the listener cannot
    /// bind, or a recorder is installed already.
    pub async fn install(config: &Config, task: String) -> Result<Telemetry, String> {
        let interval = config.emf_interval();
        let bind = config.metrics_bind();
        if interval.is_none() && bind.is_none() {
            return Ok(Telemetry {
                emf: None,
                prometheus: None,
            });
        }
        let mut fanout = FanoutBuilder::default();
        let mut telemetry = Telemetry {
            emf: None,
            prometheus: None,
        };
        if let Some(interval) = interval {
            let (recorder, writer) = emf::pair(Dimensions {
                namespace: config.metrics_namespace.clone(),
                service: config.metrics_service(),
                task,
            });
            fanout = fanout.add_recorder(recorder);
            telemetry.emf = Some((writer, interval));
        }
        if let Some(bind) = bind {
            let listener = TcpListener::bind(bind).await.map_err(|error| {
                format!("cannot listen on {bind} (METRICS_HOST, METRICS_PORT): {error}")
            })?;
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(meters::HTTP_DURATION.into()), BUCKETS)
                .map_err(|e| e.to_string())?
                .build_recorder();
            telemetry.prometheus = Some((recorder.handle(), listener));
            fanout = fanout.add_recorder(recorder);
        }
        metrics::set_global_recorder(fanout.build())
            .map_err(|_| "a metrics recorder is installed already".to_string())?;
        describe();
        meters::bind();
        Ok(telemetry)
    }

    /// The Prometheus listener's address, when there is one.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.prometheus
            .as_ref()
            .and_then(|(_, listener)| listener.local_addr().ok())
    }

    /// Starts the exporters over `app`'s state.
    pub fn start(self, app: &Arc<App>) -> Running {
        let mut tasks = Vec::new();
        let mut shared = None;
        if let Some((writer, interval)) = self.emf {
            let writer = Arc::new(tokio::sync::Mutex::new(writer));
            shared = Some(writer.clone());
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let mut ticks = tokio::time::interval(interval);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticks.tick().await;
                loop {
                    ticks.tick().await;
                    write_emf(&app, &writer).await;
                }
            }));
        }
        if let Some((handle, listener)) = self.prometheus {
            let upkeep = handle.clone();
            tasks.push(tokio::spawn(async move {
                let mut ticks = tokio::time::interval(UPKEEP);
                loop {
                    ticks.tick().await;
                    upkeep.run_upkeep();
                }
            }));
            tasks.push(tokio::spawn(prometheus::serve(
                listener,
                handle,
                app.clone(),
            )));
        }
        Running { emf: shared, tasks }
    }
}

impl Running {
    /// Stops the exporters, after one last EMF line for the interval cut short (a task that
    /// scales in reports its last seconds too).
    pub async fn finish(self, app: &Arc<App>) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(writer) = &self.emf {
            write_emf(app, writer).await;
        }
    }
}

/// Writes one EMF line for the interval that ends now.
async fn write_emf(app: &App, writer: &tokio::sync::Mutex<emf::EmfWriter>) {
    refresh_gauges(app).await;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut line = writer.lock().await.line(now);
    line.push('\n');
    // One write of the whole line: tokio hands it to one `write_all` under stdout's lock.
    let mut stdout = tokio::io::stdout();
    let written = tokio::time::timeout(WRITE_DEADLINE, async {
        stdout.write_all(line.as_bytes()).await?;
        stdout.flush().await
    })
    .await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "could not write the EMF metrics line to stdout"),
        Err(_) => tracing::warn!(
            deadline_ms = WRITE_DEADLINE.as_millis() as u64,
            "EMF metrics line not written: stdout does not take it"
        ),
    }
}

/// Sets every gauge from the server's state now.
pub(crate) async fn refresh_gauges(app: &App) {
    use std::sync::atomic::Ordering;
    metrics::gauge!(meters::SSE_CONNECTIONS).set(app.streams.open() as f64);
    metrics::gauge!(meters::LONG_LIVED_STREAMS).set(app.streams.open_long_lived() as f64);
    metrics::gauge!(meters::OPEN_CONNECTIONS).set(app.connections.load(Ordering::Relaxed) as f64);
    metrics::gauge!(meters::LEGACY_SESSIONS).set(app.legacy_sessions().await as f64);
    let draining = if app.drain.state().is_draining() {
        1.0
    } else {
        0.0
    };
    metrics::gauge!(meters::DRAINING).set(draining);
    metrics::gauge!(meters::RESIDENT_MEMORY).set(resident_bytes() as f64);
}

/// The help and unit of every metric (Prometheus's `# HELP` lines).
fn describe() {
    use metrics::Unit;
    metrics::describe_counter!(
        meters::HTTP_REQUESTS,
        Unit::Count,
        "HTTP responses, by route (mcp, health, other, connection) and status"
    );
    metrics::describe_histogram!(
        meters::HTTP_DURATION,
        Unit::Seconds,
        "Time from a request's arrival to its response head, by route"
    );
    metrics::describe_counter!(
        meters::HTTP_CANCELLED,
        Unit::Count,
        "Requests whose client went away, or whose handler failed, before an answer, by route"
    );
    metrics::describe_counter!(
        meters::CONNECTIONS_REFUSED,
        Unit::Count,
        "Connections refused over MAX_CONNECTIONS (a 503 written before any request was read)"
    );
    metrics::describe_counter!(
        meters::PANICS,
        Unit::Count,
        "Panics caught and answered as errors"
    );
    metrics::describe_counter!(
        meters::TOOL_CALLS,
        Unit::Count,
        "Tool calls, by tool and outcome (ok, error: isError result, failed: JSON-RPC error)"
    );
    metrics::describe_counter!(
        meters::TIMEOUTS,
        Unit::Count,
        "Requests, streams and connections ended by a time limit, by limit"
    );
    metrics::describe_gauge!(meters::SSE_CONNECTIONS, Unit::Count, "SSE streams open now");
    metrics::describe_gauge!(
        meters::LONG_LIVED_STREAMS,
        Unit::Count,
        "Long-lived SSE streams (GET and subscriptions/listen) open now"
    );
    metrics::describe_gauge!(
        meters::OPEN_CONNECTIONS,
        Unit::Count,
        "TCP connections open now"
    );
    metrics::describe_gauge!(
        meters::LEGACY_SESSIONS,
        Unit::Count,
        "Legacy sessions held in this process"
    );
    metrics::describe_gauge!(meters::DRAINING, "1 while the server drains, else 0");
    metrics::describe_gauge!(
        meters::RESIDENT_MEMORY,
        Unit::Bytes,
        "Resident memory of the process"
    );
}

/// The `Task` dimension: `METRICS_TASK`, the ECS task id, or the host name.
pub async fn task_name(config: &Config) -> String {
    if let Some(task) = &config.metrics_task {
        return task.clone();
    }
    if let Some(uri) = &config.ecs_metadata_uri {
        match crate::lifecycle::ecs_metadata::task_id(uri).await {
            Ok(id) => return id,
            Err(error) => tracing::warn!(
                url = uri,
                %error,
                "ECS task metadata gave no task id; the metrics' Task dimension is the host name"
            ),
        }
    }
    host_name().unwrap_or_else(|| "local".to_string())
}

fn host_name() -> Option<String> {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is writable for its length; gethostname NUL-terminates within it
    // or the name is truncated, which the search for NUL below handles.
    let result = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if result != 0 {
        return None;
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    let name = std::str::from_utf8(&buffer[..end]).ok()?;
    crate::config::metric_dimension(name).ok()
}
