//! A minimal HTTP/1 client for the black-box tests against the local API.

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[derive(Clone)]
pub struct Api {
    base: String,
    /// Sent as `x-api-key`; `None` sends none.
    key: Option<String>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&self.body)))
    }
}

impl Api {
    pub fn from_env() -> Api {
        Api::at(&super::required_env("API_URL"))
    }

    /// The API at `base` (e.g. `http://127.0.0.1:9000`), as the events' tenant.
    pub fn at(base: &str) -> Api {
        let base = base.to_owned();
        Api {
            base,
            key: Some("local-dev-key".into()),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// The same API as another tenant (`None`: without a key).
    pub fn with_key(&self, key: Option<&str>) -> Api {
        Api {
            key: key.map(str::to_owned),
            ..self.clone()
        }
    }

    pub async fn send(&self, method: &str, path: &str, body: impl Into<bytes::Bytes>) -> Reply {
        self.send_as(method, path, "application/json", body).await
    }

    pub async fn send_as(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: impl Into<bytes::Bytes>,
    ) -> Reply {
        self.send_with(method, path, &[("content-type", content_type)], body)
            .await
    }

    /// A request with these headers (and the API key).
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<bytes::Bytes>,
    ) -> Reply {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(key) = &self.key {
            req = req.header("x-api-key", key);
        }
        let req = req.body(Full::new(body.into())).expect("request builds");
        let resp = self
            .client
            .request(req)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = resp
            .into_body()
            .collect()
            .await
            .expect("body arrives")
            .to_bytes()
            .to_vec();
        Reply {
            status,
            content_type,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, bytes::Bytes::new()).await
    }

    pub async fn post(&self, path: &str, body: impl Into<bytes::Bytes>) -> Reply {
        self.send("POST", path, body).await
    }
}
