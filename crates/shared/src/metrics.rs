//! CloudWatch metrics in the embedded metric format (EMF): one JSON line on stdout per
//! event, which CloudWatch Logs turns into metrics with no API call on the request path.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use serde_json::{json, Map, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where metric lines go: stdout in a function, memory in tests.
#[derive(Clone)]
enum Sink {
    Stdout,
    Memory(Arc<Mutex<Vec<String>>>),
    Off,
}

#[derive(Clone)]
pub struct Metrics {
    namespace: String,
    function: String,
    sink: Sink,
}

impl Metrics {
    /// Metrics of `function` under `namespace`, written to stdout.
    pub fn stdout(namespace: &str, function: &str) -> Metrics {
        Metrics::with(namespace, function, Sink::Stdout)
    }

    /// Metrics kept in memory, returned with the lines they will hold.
    pub fn memory(namespace: &str, function: &str) -> (Metrics, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let metrics = Metrics::with(namespace, function, Sink::Memory(lines.clone()));
        (metrics, lines)
    }

    pub fn off() -> Metrics {
        Metrics::with("", "", Sink::Off)
    }

    fn with(namespace: &str, function: &str, sink: Sink) -> Metrics {
        Metrics {
            namespace: namespace.to_owned(),
            function: function.to_owned(),
            sink,
        }
    }

    /// Counts one of `name` with the `Function` dimension and the given extra dimensions.
    pub fn count(&self, name: &str, dimensions: &[(&str, &str)]) {
        if matches!(self.sink, Sink::Off) {
            return;
        }
        let line = self.document(name, dimensions).to_string();
        match &self.sink {
            Sink::Stdout => {
                // One write of a whole line, so it never interleaves with a log line.
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
            }
            Sink::Memory(lines) => lines.lock().expect("not poisoned").push(line),
            Sink::Off => {}
        }
    }

    fn document(&self, name: &str, dimensions: &[(&str, &str)]) -> Value {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut keys = vec!["Function"];
        keys.extend(dimensions.iter().map(|(k, _)| *k));
        let mut doc = Map::new();
        doc.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [keys],
                    "Metrics": [{ "Name": name, "Unit": "Count" }],
                }],
            }),
        );
        doc.insert("Function".into(), self.function.clone().into());
        for (k, v) in dimensions {
            doc.insert((*k).into(), (*v).into());
        }
        doc.insert(name.into(), 1.into());
        Value::Object(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_is_one_emf_document_with_its_dimensions() {
        let (metrics, lines) = Metrics::memory("Brokerage/test", "place-order");
        metrics.count("OrdersRejected", &[("BusinessError", "CLOSED_MARKET")]);
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1);
        let doc: Value = serde_json::from_str(&lines[0]).unwrap();
        let cw = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "Brokerage/test");
        assert_eq!(cw["Dimensions"], json!([["Function", "BusinessError"]]));
        assert_eq!(
            cw["Metrics"],
            json!([{"Name": "OrdersRejected", "Unit": "Count"}])
        );
        assert!(doc["_aws"]["Timestamp"].as_u64().unwrap() > 1_600_000_000_000);
        assert_eq!(doc["Function"], "place-order");
        assert_eq!(doc["BusinessError"], "CLOSED_MARKET");
        assert_eq!(doc["OrdersRejected"], 1);
    }
}
