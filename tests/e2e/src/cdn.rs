//! A static server that behaves like a CDN in front of the dist folder: unknown paths get
//! `index.html` (deep links), `.br`/`.gz` files are served when accepted, and `config.json` is
//! whatever the test set.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

async fn respond(dist: Arc<PathBuf>, config: Arc<Mutex<String>>, req: Request<Body>) -> Response {
    let path = req.uri().path().trim_start_matches('/').to_owned();
    if path == "config.json" {
        let body = config.lock().unwrap_or_else(|e| e.into_inner()).clone();
        return (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response();
    }
    let mut file = dist.join(&path);
    if path.contains("..") || !file.is_file() {
        file = dist.join("index.html");
    }
    let name = file.to_string_lossy().into_owned();
    let accept = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&name)),
    );
    for (enc, ext) in [("br", "br"), ("gzip", "gz")] {
        let candidate = PathBuf::from(format!("{name}.{ext}"));
        if accept.contains(enc) && candidate.is_file() {
            if let Ok(bytes) = tokio::fs::read(&candidate).await {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
                return (headers, bytes).into_response();
            }
        }
    }
    match tokio::fs::read(&file).await {
        Ok(bytes) => (headers, bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves `dist` on a free loopback port for as long as the runtime lives.
pub async fn serve(
    dist: PathBuf,
    config: Arc<Mutex<String>>,
) -> anyhow::Result<std::net::SocketAddr> {
    let dist = Arc::new(dist);
    let app = axum::Router::new()
        .fallback(move |req: Request<Body>| respond(dist.clone(), config.clone(), req));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}
