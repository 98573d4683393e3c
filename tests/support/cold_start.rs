//! Cold starts of a release function binary against a fake Lambda Runtime API on loopback:
//! what Lambda reports as Init (exec until the runtime's first `GET /invocation/next`), the
//! first invocation's answer, and the peak RSS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Medians over the starts, and the largest peak RSS seen.
pub struct ColdStart {
    /// Exec to the first `GET /invocation/next`: the Init phase.
    pub init_ms: f64,
    /// Exec to the first invocation's response posted.
    pub first_response_ms: f64,
    pub rss_mb: f64,
}

/// `starts` cold starts of `binary` as `function`, each invoked once with `event`;
/// `env` adds to the Lambda variables (configuration the function needs).
pub fn cold_starts(
    binary: &str,
    function: &str,
    event: &str,
    env: &[(&str, &str)],
    starts: usize,
) -> ColdStart {
    let (mut inits, mut firsts) = (Vec::new(), Vec::new());
    let mut rss: f64 = 0.0;
    for _ in 0..starts {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = Instant::now();
        let mut child = Command::new(binary)
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{binary}: {e}"));
        let init = answered_once(&listener, event);
        inits.push((init - started).as_secs_f64() * 1e3);
        firsts.push(started.elapsed().as_secs_f64() * 1e3);
        rss = rss.max(peak_rss_mb(child.id()));
        let _ = child.kill();
        let _ = child.wait();
    }
    ColdStart {
        init_ms: median(inits),
        first_response_ms: median(firsts),
        rss_mb: rss,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Serves one invocation of `event`; returns when the function has posted its response,
/// with the instant its first `next` arrived.
fn answered_once(listener: &TcpListener, event: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut first_next = None;
    loop {
        assert!(Instant::now() < deadline, "no response from the function");
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut stream = stream;
        // Keep-alive: several requests may come on one connection.
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            if line.starts_with("GET") && line.contains("/invocation/next") {
                first_next.get_or_insert_with(Instant::now);
                let deadline_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis()
                    + 10_000;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nlambda-runtime-aws-request-id: bench-1\r\nlambda-runtime-deadline-ms: {deadline_ms}\r\nlambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:000000000000:function:bench\r\nlambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\ncontent-length: {}\r\n\r\n{event}",
                    event.len()
                );
                stream.write_all(reply.as_bytes()).unwrap();
            } else {
                stream
                    .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                    .unwrap();
                if line.contains("/response") || line.contains("/error") {
                    return first_next.expect("a response follows a next");
                }
            }
        }
    }
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
