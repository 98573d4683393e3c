//! Servers a test starts and stops itself (to stop them mid-run), on 127.0.0.1.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    command: Vec<String>,
}

impl Server {
    /// redis-server on a free port, without persistence.
    pub fn redis() -> Server {
        let port = free_port();
        let args = [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ];
        Server::start(args.iter().map(|s| s.to_string()).collect(), port)
    }

    /// DynamoDB Local (in memory) on a free port, through the loopback launcher.
    pub fn dynamodb() -> Server {
        let jar = super::required_env("DYNAMODB_JAR");
        let lib = std::path::Path::new(&jar).with_file_name("DynamoDBLocal_lib");
        let launcher = format!(
            "{}/../scripts/DynamoDBLocalLoopback.java",
            env!("CARGO_MANIFEST_DIR")
        );
        let port = free_port();
        let args = vec![
            "java".into(),
            "-Xmx256m".into(),
            format!("-Djava.library.path={}", lib.display()),
            "-cp".into(),
            format!("{jar}:{}/*", lib.display()),
            launcher,
            "-inMemory".into(),
            "-port".into(),
            port.to_string(),
            "-disableTelemetry".into(),
        ];
        Server::start(args, port)
    }

    fn start(command: Vec<String>, port: u16) -> Server {
        let mut server = Server {
            child: None,
            port,
            command,
        };
        server.restart();
        server
    }

    /// Starts the server again on the same port, and waits until it listens.
    pub fn restart(&mut self) {
        let child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", self.command[0]));
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{} did not listen",
                self.command[0]
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server (as a crash would) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes or thaws the server (SIGSTOP / SIGCONT): a server that stops answering.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill {signal} {pid}");
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
