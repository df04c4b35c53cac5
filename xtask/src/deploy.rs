//! What a production server needs beside the built files: a Content-Security-Policy that
//! agrees with the environment's `config.json`, the other security headers, cache rules per
//! file kind and the single-page-app fallback, written in two forms from one table:
//!
//! - an nginx `server` block (tested end to end through Debian's nginx, `tests/e2e`);
//! - `_headers` and `_redirects` files, as Netlify- and Cloudflare-Pages-style CDNs read them.
//!
//! Everything here is pure text in, text out, except [`write`], so the rules are tested
//! natively below and the end-to-end harness writes each test's deployment with [`write`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// `Strict-Transport-Security` for pages served over https: two years, subdomains included.
/// Browsers ignore it over plain http (RFC 6797 §8.1), and the nginx block sends it on https
/// only.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// How long a content-hashed file may be cached: it never changes under its name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Revalidate on every load: `index.html` (and so every deep link) and `config.json`.
pub const REVALIDATE: &str = "no-cache";

/// What decides the Content-Security-Policy: the build's inline scripts and the WebSocket
/// origins of the environment's config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `'sha256-…'` of each inline script in `index.html` (the early start of the sockets and
    /// `config.json`, and trunk's loader).
    pub script_hashes: Vec<String>,
    /// `ws://` and `wss://` origins the config names, sorted and unique. Paths on the page's
    /// own origin are covered by `'self'`.
    pub ws_origins: Vec<String>,
}

impl Policy {
    /// The policy for a built `index.html` and a `config.json` text.
    pub fn new(index_html: &str, config_json: &str) -> Result<Self> {
        let script_hashes: Vec<String> = inline_scripts(index_html)
            .into_iter()
            .map(sha256_source)
            .collect();
        if script_hashes.is_empty() {
            bail!("index.html has no inline script: not a trunk build?");
        }
        Ok(Self {
            script_hashes,
            ws_origins: ws_origins(config_json)?,
        })
    }

    /// The Content-Security-Policy header value.
    ///
    /// - `script-src`: the app's own files, WebAssembly compilation, and the inline scripts
    ///   (the early start, trunk's loader) by hash. No `'unsafe-inline'`, no `'unsafe-eval'`.
    /// - `style-src 'unsafe-inline'`: stylist writes each component's CSS into `<style>`
    ///   elements at run time, with content known only then, and it has no nonce support.
    /// - `connect-src`: `config.json`, the wasm and same-origin sockets (`'self'`), plus each
    ///   WebSocket origin in the config.
    pub fn csp(&self) -> String {
        let mut script = String::from("'self' 'wasm-unsafe-eval'");
        for h in &self.script_hashes {
            let _ = write!(script, " {h}");
        }
        let mut connect = String::from("'self'");
        for o in &self.ws_origins {
            let _ = write!(connect, " {o}");
        }
        format!(
            "default-src 'none'; script-src {script}; style-src 'self' 'unsafe-inline'; \
             img-src 'self'; connect-src {connect}; base-uri 'self'; form-action 'none'; \
             frame-ancestors 'none'"
        )
    }

    /// The headers every response carries, in order (HSTS and caching aside).
    pub fn security_headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Content-Security-Policy", self.csp()),
            ("X-Content-Type-Options", "nosniff".into()),
            ("X-Frame-Options", "DENY".into()),
            ("Referrer-Policy", "no-referrer".into()),
            ("Cross-Origin-Opener-Policy", "same-origin".into()),
            (
                "Permissions-Policy",
                "camera=(), microphone=(), geolocation=(), payment=(), usb=()".into(),
            ),
        ]
    }
}

/// The text of each `<script>` without a `src`, exactly as the browser hashes it.
pub fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            out.push(&body[..close]);
        }
        rest = &body[close..];
    }
    out
}

/// A CSP hash source: `'sha256-<base64>'`. The HTML parser turns CRLF into LF before the
/// browser hashes, so this does too.
pub fn sha256_source(script: &str) -> String {
    let text = script.replace("\r\n", "\n");
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The `ws://`/`wss://` origins of every enabled module's URL in a `config.json` text, after
/// the app's own checks (`switchboard_core::app_config::parse`: unknown keys, unknown module
/// ids, a bad `token_key`), each failing the build with the field it names. Paths are on the
/// page's origin (`'self'`). An origin goes into the CSP, the nginx block and `_headers`, so
/// it must be exactly a scheme, a plain host and an optional port: anything else is an error
/// here rather than an injected directive, header or nginx line.
pub fn ws_origins(config_json: &str) -> Result<Vec<String>> {
    let known: Vec<&str> = switchboard_registry::BACKENDS
        .iter()
        .map(|b| b.id)
        .collect();
    let (config, errors) = switchboard_core::app_config::parse(config_json, &known);
    if !errors.is_empty() {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        bail!("config.json: {}", errors.join("; "));
    }
    let mut origins = Vec::new();
    for (id, module) in config.modules.iter().filter(|(_, m)| m.enabled) {
        let Some(url) = module.url.as_deref() else {
            continue;
        };
        if switchboard_core::config::is_page_path(url) {
            continue;
        }
        let origin =
            ws_origin(url).with_context(|| format!("config.json: `modules.{id}.url` = {url:?}"))?;
        origins.push(origin);
    }
    origins.sort();
    origins.dedup();
    Ok(origins)
}

/// `ws(s)://host[:port]` of a WebSocket URL, or why it is not one a policy can name.
fn ws_origin(url: &str) -> Result<String> {
    let parsed = url::Url::parse(url).context("not a URL")?;
    let scheme = parsed.scheme();
    if scheme != "ws" && scheme != "wss" {
        bail!("is not ws:// or wss://");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        bail!("carries credentials");
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d))
            if d.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
        {
            d.to_owned()
        }
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        _ => bail!("has no plain host (letters, digits, '-' and '.', or an IP address)"),
    };
    Ok(match parsed.port() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// Whether `name` is content-hashed by trunk (`name-<hex>.ext` or `name-<hex>_bg.wasm`).
/// Trunk prints a 64-bit hash in hex without leading zeros, so one build in sixteen has a
/// 15-digit hash; [`HASH_DIGITS`] allows for that, and a hash under 8 digits has odds of 2⁻³².
pub fn is_hashed(name: &str) -> bool {
    let Some((stem, _ext)) = name.rsplit_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        HASH_DIGITS.contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// How many hex digits a trunk content hash has (see [`is_hashed`]).
pub const HASH_DIGITS: std::ops::RangeInclusive<usize> = 8..=16;

/// Where the nginx block listens and what it serves.
#[derive(Clone, Debug)]
pub struct Nginx {
    /// The `listen` parameters, e.g. `80` or `127.0.0.1:8443 ssl`.
    pub listen: String,
    /// The `server_name`s, e.g. `ops.example.net`; `_` for any.
    pub server_name: String,
    /// The folder holding the built files on the server.
    pub root: PathBuf,
    /// Gateway nodes (`host:port`) to proxy `/ws/` and `/publish/` to, through the upstream
    /// in [`gateway_upstream`]; none: the block serves the static files only.
    pub gateways: Vec<String>,
}

/// The name of the generated `upstream`.
pub const GATEWAY_UPSTREAM: &str = "switchboard_gateway";

/// The `upstream` of the gateway nodes, for the `http {}` context, and the `map` the
/// WebSocket proxying needs. A node that refuses (connection error, 502, 503: shutting down
/// or still reading its streams) is passed over for the next one, request by request, and
/// never marked down (`max_fails=0`): in a rolling restart the node that just came back must
/// take the sockets of the one going away at once, not after a `fail_timeout` during which
/// nginx would answer "no live upstreams". A node whose host is unreachable costs a request
/// up to `proxy_connect_timeout` (2 s) before the next node.
pub fn gateway_upstream(nodes: &[String], source: &str) -> String {
    let mut servers = String::new();
    for node in nodes {
        let _ = writeln!(servers, "    server {node} max_fails=0;");
    }
    format!(
        r#"# The Switchboard gateway nodes, generated by `cargo xtask dist --gateway` ({source}).
# Include it in the `http {{ }}` context, beside the server block that uses it.
upstream {GATEWAY_UPSTREAM} {{
{servers}    keepalive 32;
}}

map $http_upgrade $switchboard_connection {{
    default upgrade;
    ''      close;
}}
"#
    )
}

/// The `location`s that proxy to the gateway upstream: sockets (held open for a day, as
/// heartbeats keep them busy) and publishing. `X-Forwarded-For` ends with the address nginx
/// saw, which the gateway's `trusted_proxy_header` reads.
fn gateway_locations(max_publish_bytes: usize) -> String {
    format!(
        r#"
    # The dashboard's sockets, to a gateway node that is up.
    location /ws/ {{
        proxy_pass http://{GATEWAY_UPSTREAM};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $switchboard_connection;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_connect_timeout 2s;
        proxy_read_timeout 1d;
        proxy_send_timeout 1d;
        proxy_next_upstream error timeout http_502 http_503;
    }}

    # Frames from systems that cannot speak NATS (publisher tokens only).
    location /publish/ {{
        proxy_pass http://{GATEWAY_UPSTREAM};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        client_max_body_size {max_publish_bytes};
        proxy_connect_timeout 2s;
        proxy_next_upstream error timeout http_502 http_503 non_idempotent;
    }}
"#
    )
}

/// A systemd unit for one gateway node: its configuration in `/etc/switchboard`, secrets in
/// an environment file, no privileges, SIGTERM with time to close every socket (1012).
pub fn gateway_systemd_unit() -> String {
    r#"# The Switchboard gateway, generated by `cargo xtask dist --gateway` (see docs/GATEWAY.md).
# Install: the binary at /usr/local/bin/switchboard-gateway, gateway.toml at
# /etc/switchboard/gateway.toml, secrets (SWITCHBOARD_GATEWAY_HS256_SECRET=...) in
# /etc/switchboard/gateway.env (mode 600), then `systemctl enable --now switchboard-gateway`.
[Unit]
Description=Switchboard gateway (WebSocket protocol server)
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/local/bin/switchboard-gateway --config /etc/switchboard/gateway.toml --log-json
EnvironmentFile=-/etc/switchboard/gateway.env
Environment=RUST_LOG=info
Restart=on-failure
RestartSec=1s
# SIGTERM: /readyz turns 503, every socket closes with 1012; shutdown_grace bounds it.
KillSignal=SIGTERM
TimeoutStopSec=30s
LimitNOFILE=262144
DynamicUser=yes
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectControlGroups=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
CapabilityBoundingSet=

[Install]
WantedBy=multi-user.target
"#
    .to_owned()
}

fn nginx_headers(policy: &Policy, cache: &str, indent: &str) -> String {
    let mut out = format!("{indent}add_header Cache-Control \"{cache}\" always;\n");
    for (name, value) in policy.security_headers() {
        let _ = writeln!(out, "{indent}add_header {name} \"{value}\" always;");
    }
    let _ = writeln!(
        out,
        "{indent}add_header Strict-Transport-Security $switchboard_hsts always;"
    );
    out
}

/// The nginx `server` block. nginx's `add_header` in a `location` replaces every inherited
/// one, so each location lists all of them.
pub fn nginx_server_block(policy: &Policy, nginx: &Nginx, source: &str) -> String {
    let root = nginx.root.display();
    let immutable = nginx_headers(policy, IMMUTABLE, "        ");
    let revalidate = nginx_headers(policy, REVALIDATE, "        ");
    format!(
        r#"# Switchboard, generated by `cargo xtask dist` from {source}.
# Regenerate rather than edit, so the Content-Security-Policy keeps agreeing with config.json.
#
# Include it in the `http {{ }}` context. It needs Debian's mime.types (nginx.conf includes
# it) and the brotli_static module (`apt install libnginx-mod-http-brotli-static`, which loads
# it); gzip_static is built into Debian's nginx. For TLS, add `ssl` to `listen` and your
# certificate lines; HSTS is sent on https only.
server {{
    listen {listen};
    server_name {server_name};
    root {root};
    index index.html;
    charset utf-8;
    server_tokens off;

    # Precompressed files beside each one: .br for browsers that accept brotli, else .gz.
    brotli_static on;
    gzip_static on;
    gzip_vary on;

    set $switchboard_hsts "";
    if ($https = on) {{
        set $switchboard_hsts "{HSTS}";
    }}

    # Content-hashed by trunk: a name never changes content, so cache it for a year.
    location ~ "^/[^/]+-[0-9a-f]{{8,16}}(_bg)?\.[a-z0-9]+$" {{
        try_files $uri =404;
{immutable}    }}

    # Each environment's own settings: revalidated on every load, and never served from a
    # precompressed copy, so replacing this one file is enough.
    location = /config.json {{
        brotli_static off;
        gzip_static off;
        try_files $uri =404;
{revalidate}    }}

    # Files for other CDNs, from the same build.
    location ~ ^/_(headers|redirects)$ {{
        return 404;
    }}

    # The app and every deep link (/sessions, /ops/...): index.html, revalidated.
    location / {{
        try_files $uri /index.html;
{revalidate}    }}
{gateway}}}
"#,
        listen = nginx.listen,
        server_name = nginx.server_name,
        gateway = if nginx.gateways.is_empty() {
            String::new()
        } else {
            gateway_locations(1 << 20)
        },
    )
}

/// The `_headers` file: security headers on every path, cache rules on the exact files.
pub fn headers_file(policy: &Policy, files: &[String], source: &str) -> String {
    let mut out = format!(
        "# Switchboard, generated by `cargo xtask dist` from {source}. Netlify and Cloudflare \
         Pages read it.\n/*\n"
    );
    for (name, value) in policy.security_headers() {
        let _ = writeln!(out, "  {name}: {value}");
    }
    let _ = writeln!(out, "  Strict-Transport-Security: {HSTS}");
    for path in ["/", "/index.html", "/config.json"] {
        let _ = writeln!(out, "{path}\n  Cache-Control: {REVALIDATE}");
    }
    for name in files.iter().filter(|n| is_hashed(n)) {
        let _ = writeln!(out, "/{name}\n  Cache-Control: {IMMUTABLE}");
    }
    out
}

/// The `_redirects` file: every path that is not a file is the app (a rewrite, status 200).
pub const REDIRECTS: &str = "/*  /index.html  200\n";

/// What [`write`] wrote.
#[derive(Debug)]
pub struct Written {
    /// The policy the headers carry.
    pub policy: Policy,
    /// The nginx server block.
    pub nginx_conf: PathBuf,
}

/// Writes a deployment into `dist`: `config.json` (the given text, or the build's own), with
/// any precompressed copy of it removed; `_headers` and `_redirects`; and the nginx block at
/// `nginx_conf`.
pub fn write(
    dist: &Path,
    config_json: Option<&str>,
    source: &str,
    nginx: &Nginx,
    nginx_conf: &Path,
) -> Result<Written> {
    let index = std::fs::read_to_string(dist.join("index.html"))
        .with_context(|| format!("reading {}/index.html", dist.display()))?;
    let config_path = dist.join("config.json");
    let config = match config_json {
        Some(text) => {
            std::fs::write(&config_path, text)?;
            text.to_owned()
        }
        None => std::fs::read_to_string(&config_path).unwrap_or_else(|_| "{}".into()),
    };
    for stale in ["config.json.br", "config.json.gz"] {
        let _ = std::fs::remove_file(dist.join(stale));
    }
    let policy = Policy::new(&index, &config)?;
    let mut files: Vec<String> = std::fs::read_dir(dist)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    files.sort();
    std::fs::write(dist.join("_headers"), headers_file(&policy, &files, source))?;
    std::fs::write(dist.join("_redirects"), REDIRECTS)?;
    if let Some(parent) = nginx_conf.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(nginx_conf, nginx_server_block(&policy, nginx, source))?;
    Ok(Written {
        policy,
        nginx_conf: nginx_conf.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "<html><head>\n<script type=\"module\">\nimport init from '/a-0123456789abcdef.js';\nawait init();\n</script>\n<script src=\"/x.js\"></script></head></html>";

    #[test]
    fn the_inline_loader_is_hashed_exactly_and_external_scripts_are_not() {
        let scripts = inline_scripts(INDEX);
        assert_eq!(
            scripts,
            ["\nimport init from '/a-0123456789abcdef.js';\nawait init();\n"]
        );
        // `printf '%s' "$script" | openssl sha256 -binary | base64`
        assert_eq!(
            sha256_source("alert(1)"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
        assert_eq!(sha256_source("a\r\nb"), sha256_source("a\nb"));
    }

    #[test]
    fn connect_src_lists_the_configs_socket_origins_and_nothing_else() {
        let config = r#"{"modules":{
            "network":{"url":"wss://Net.Example.net:8443/ws/network?x=1"},
            "sessions":{"url":"/ws/sessions"},
            "billing":{"url":"wss://net.example.net:8443/other"},
            "support":{"enabled":false}}}"#;
        let policy = Policy::new(INDEX, config).unwrap();
        assert_eq!(policy.ws_origins, ["wss://net.example.net:8443"]);
        let csp = policy.csp();
        assert!(
            csp.contains("connect-src 'self' wss://net.example.net:8443;"),
            "{csp}"
        );
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"));
        let script_src = csp
            .split("; ")
            .find(|d| d.starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("'unsafe-inline'") && !script_src.contains("'unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(
            ws_origins(r#"{"simulation":false}"#).unwrap(),
            Vec::<String>::new()
        );
        for bad in [
            r#"{"modules":{"network":{"url":"https://x/ws"}}}"#,
            r#"{"modules":{"network":{"url":"//x/ws"}}}"#,
            r#"{"modules":{"network":{"url":"wss://u:p@x/ws"}}}"#,
            r#"{"modules":[]}"#,
            "{",
        ] {
            assert!(ws_origins(bad).is_err(), "{bad}");
        }
        assert!(
            Policy::new("<html></html>", "{}").is_err(),
            "no loader, no policy"
        );
    }

    #[test]
    fn hostile_module_urls_never_reach_the_policy_or_the_nginx_block() {
        for url in [
            "wss://a.example; script-src *",
            "wss://a.example;script-src/ws",
            "wss://a\"b.example/ws",
            "wss://$host/ws",
            "wss://a.example\n add_header X 1;/ws",
            "wss://a.example\r\nSet-Cookie: x/ws",
            "wss://a.example\u{0}/ws",
            "wss://a b.example/ws",
            "wss://'self'/ws",
            "wss://*.example/ws",
            "javascript:alert(1)",
        ] {
            let config = serde_json::json!({ "modules": { "network": { "url": url } } });
            let result = ws_origins(&config.to_string());
            assert!(result.is_err(), "{url:?} gave {result:?}");
        }
        // Only a scheme, a lower-case host and a port survive; the rest stays in the URL.
        let ok = r#"{"modules":{"network":{"url":"wss://NET.example:8443/ws;x?a=b c#d"},
                     "sessions":{"url":"ws://10.0.0.1/ws"},"billing":{"url":"wss://[::1]:9000/ws"}}}"#;
        assert_eq!(
            ws_origins(ok).unwrap(),
            [
                "ws://10.0.0.1",
                "wss://[::1]:9000",
                "wss://net.example:8443"
            ]
        );
    }

    #[test]
    fn the_apps_own_config_checks_fail_the_build_naming_the_field() {
        for (config, field) in [
            (r#"{"simulaton":false}"#, "simulaton"),
            (r#"{"modules":{"netwrok":{"url":"/ws/n"}}}"#, "netwrok"),
            (r#"{"token_key":"bad key!"}"#, "token_key"),
        ] {
            let e = ws_origins(config).unwrap_err().to_string();
            assert!(e.contains(field), "{config}: {e}");
        }
        // A disabled module adds no origin.
        let disabled = r#"{"modules":{"network":{"url":"wss://off.example/ws","enabled":false}}}"#;
        assert_eq!(ws_origins(disabled).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn trunk_hashed_names_are_recognised() {
        for yes in [
            "switchboard-e8d03ccf830655aa_bg.wasm",
            "switchboard-e8d03ccf830655aa.js",
            "favicon-77f1cf987b6dbe74.svg",
            // A hash with a leading zero, which trunk does not print.
            "switchboard-d6392c0b885f230_bg.wasm",
        ] {
            assert!(is_hashed(yes), "{yes}");
        }
        for no in [
            "index.html",
            "config.json",
            "app-1234.js",
            "_headers",
            "x-e8d03ccf830655ag.js",
        ] {
            assert!(!is_hashed(no), "{no}");
        }
    }

    #[test]
    fn both_forms_carry_the_same_headers() {
        let policy = Policy::new(
            INDEX,
            r#"{"modules":{"network":{"url":"wss://a.example/ws"}}}"#,
        )
        .unwrap();
        let files = vec![
            "app-0123456789abcdef_bg.wasm".to_owned(),
            "index.html".to_owned(),
            "config.json".to_owned(),
        ];
        let headers = headers_file(&policy, &files, "test");
        let nginx = nginx_server_block(
            &policy,
            &Nginx {
                listen: "8080".into(),
                server_name: "_".into(),
                root: "/srv/sb".into(),
                gateways: Vec::new(),
            },
            "test",
        );
        for (name, value) in policy.security_headers() {
            assert!(headers.contains(&format!("  {name}: {value}\n")), "{name}");
            // Once per location: hashed files, config.json and the app.
            assert_eq!(
                nginx
                    .matches(&format!("add_header {name} \"{value}\" always;"))
                    .count(),
                3,
                "{name}"
            );
        }
        assert!(headers.contains(&format!(
            "/app-0123456789abcdef_bg.wasm\n  Cache-Control: {IMMUTABLE}\n"
        )));
        assert!(headers.contains(&format!("/config.json\n  Cache-Control: {REVALIDATE}\n")));
        assert!(!headers.contains("/index.html\n  Cache-Control: public"));
        assert!(nginx.contains("root /srv/sb;") && nginx.contains("listen 8080;"));
        assert!(
            !nginx.contains("proxy_pass"),
            "no gateway: static files only"
        );
    }

    #[test]
    fn with_gateway_nodes_the_block_proxies_sockets_and_publishing_to_their_upstream() {
        let policy =
            Policy::new(INDEX, r#"{"modules":{"network":{"url":"/ws/network"}}}"#).unwrap();
        let nodes = vec!["10.0.0.11:8080".to_owned(), "10.0.0.12:8080".to_owned()];
        let block = nginx_server_block(
            &policy,
            &Nginx {
                listen: "80".into(),
                server_name: "noc.example.net".into(),
                root: "/srv/sb".into(),
                gateways: nodes.clone(),
            },
            "test",
        );
        for location in ["location /ws/ {", "location /publish/ {"] {
            assert!(block.contains(location), "{location}");
        }
        assert_eq!(
            block
                .matches(&format!("proxy_pass http://{GATEWAY_UPSTREAM};"))
                .count(),
            2
        );
        assert!(block.contains("proxy_set_header Upgrade $http_upgrade;"));
        assert!(block.contains("proxy_next_upstream error timeout http_502 http_503;"));
        let upstream = gateway_upstream(&nodes, "test");
        assert!(upstream.contains(&format!("upstream {GATEWAY_UPSTREAM} {{")));
        for node in &nodes {
            assert!(upstream.contains(&format!("server {node} max_fails=0;")));
        }
        assert!(upstream.contains("map $http_upgrade $switchboard_connection"));
        let unit = gateway_systemd_unit();
        assert!(
            unit.contains("KillSignal=SIGTERM")
                && unit.contains("ExecStart=/usr/local/bin/switchboard-gateway")
        );
    }
}
