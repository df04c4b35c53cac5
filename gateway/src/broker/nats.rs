//! The NATS JetStream broker: the streams are the truth, every node's feeds follow them.
//!
//! - One stream per module, `{prefix}_{MODULE}`, on the subjects `switchboard.{module}.*`
//!   (one subject per channel), bounded by `[streams] max_age` and `max_frames`, file
//!   storage, `[nats] replicas` copies. The gateway creates a missing stream and brings an
//!   existing one's limits up to the configuration.
//! - A message is a frame as the reference sends it, `{"type","data","timestamp"}`, on the
//!   subject of its channel. Its position is the stream sequence; the epoch names the
//!   stream's identity (its creation time), so a stream that was recreated, or lost its
//!   storage, is a new epoch and every client takes a snapshot.
//! - Each node reads each stream from its first message with an ordered consumer, and
//!   appends every message to the module's feed at its stream sequence: the history
//!   (replays) and the state (snapshots, through the module's `keep`) are what the stream
//!   holds, on every node, including one that started a second ago. Until a node has read a
//!   stream to its end, that module's sockets get 503 and `/readyz` says so.
//! - A message that is not a valid frame of its subject's channel still takes its position
//!   (positions never have holes): it goes out with `data: null`, and clients count it as a
//!   malformed frame; the gateway counts and logs it.
//!
//! Limits: the state is rebuilt from what the stream still holds, so an entry whose every
//! frame is older than `max_age` (or past `max_frames`) is not in a snapshot; for example a
//! session that has sent no update for longer than `max_age`. Size `max_age` above the
//! longest quiet period of an entry (sessions send interim updates). Memory per node is the
//! feed's: the history and the state, whatever the number of sockets.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use switchboard_core::frame::encode_sequenced;
use switchboard_core::{Frame, Instant, Provenance};

use super::BrokerError;
use crate::config::{NatsConfig, StreamsConfig};
use crate::endpoint::Endpoint;
use crate::{Gateway, Module, now};

/// How often a follower checks that its stream is still the one it reads.
const IDENTITY_CHECK: Duration = Duration::from_secs(2);
/// A consumer that delivers nothing this long while its stream holds more is replaced.
const STALLED: Duration = Duration::from_secs(4);
/// A stream that answers no query this long is looked up (or created) again.
const UNREACHABLE: Duration = Duration::from_secs(10);
/// How long a follower waits before trying again after an error.
const RETRY: Duration = Duration::from_secs(1);

/// The subject of a module's channel.
pub fn subject(module: &str, channel: &str) -> String {
    format!("switchboard.{module}.{channel}")
}

/// The name of a module's stream.
pub fn stream_name(prefix: &str, module: &str) -> String {
    format!("{prefix}_{}", module.to_ascii_uppercase())
}

/// The epoch of a stream created at `created` (nanoseconds since the Unix epoch).
pub fn epoch_of(module: &str, created_nanos: i128) -> String {
    format!("{module}-js-{created_nanos:x}")
}

/// A connection to NATS JetStream, and what each module's follower knows.
#[derive(Debug)]
pub struct Nats {
    client: async_nats::Client,
    js: jetstream::Context,
    config: NatsConfig,
    streams: StreamsConfig,
    reconnects: Arc<AtomicU64>,
    /// Per module: `Ok` once its stream was read to the end, or why not.
    status: Mutex<HashMap<&'static str, Result<(), String>>>,
    /// Messages that were not valid frames of their subject.
    invalid: AtomicU64,
}

impl Nats {
    /// Connects to the servers in `config.url` (comma-separated), retrying until one
    /// answers; reconnects are counted.
    pub async fn connect(
        config: &NatsConfig,
        streams: &StreamsConfig,
    ) -> Result<Arc<Self>, String> {
        let reconnects = Arc::new(AtomicU64::new(0));
        let counter = reconnects.clone();
        let mut options = async_nats::ConnectOptions::new()
            .name("switchboard-gateway")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .event_callback(move |event| {
                let counter = counter.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            counter.fetch_add(1, Ordering::Relaxed);
                            tracing::info!("connected to NATS");
                        }
                        async_nats::Event::Disconnected => tracing::warn!("NATS connection lost"),
                        other => tracing::info!(event = %other, "NATS"),
                    }
                }
            });
        if let Some(creds) = &config.credentials_file {
            options = options
                .credentials_file(creds)
                .await
                .map_err(|e| format!("nats.credentials_file {}: {e}", creds.display()))?;
        }
        let servers: Vec<&str> = config.url.split(',').map(str::trim).collect();
        let client = options
            .connect(servers)
            .await
            .map_err(|e| format!("connecting to NATS at {}: {e}", config.url))?;
        Ok(Arc::new(Self {
            js: jetstream::new(client.clone()),
            client,
            config: config.clone(),
            streams: streams.clone(),
            reconnects,
            status: Mutex::new(HashMap::new()),
            invalid: AtomicU64::new(0),
        }))
    }

    /// Follows every module's stream into `gateway`'s feeds, until the process ends.
    pub fn follow_all(self: &Arc<Self>, gateway: &Gateway) {
        for endpoint in gateway.endpoints() {
            endpoint.serving.store(false, Ordering::Relaxed);
            self.set_status(endpoint.module, Err("reading the stream".into()));
            tokio::spawn(self.clone().follow(endpoint.clone()));
        }
    }

    fn set_status(&self, module: Module, status: Result<(), String>) {
        let mut all = self.status.lock().unwrap_or_else(|e| e.into_inner());
        all.insert(module.name(), status);
    }

    /// The module's stream as configured: created if missing, its limits updated if they
    /// differ.
    async fn ensure_stream(&self, module: Module) -> Result<stream::Stream, String> {
        let name = stream_name(&self.config.stream_prefix, module.name());
        let wanted = stream::Config {
            name: name.clone(),
            subjects: vec![subject(module.name(), "*")],
            max_age: self.streams.max_age,
            max_messages: i64::try_from(self.streams.max_frames).unwrap_or(i64::MAX),
            num_replicas: self.config.replicas,
            storage: stream::StorageType::File,
            discard: stream::DiscardPolicy::Old,
            ..Default::default()
        };
        let mut stream = self
            .js
            .get_or_create_stream(wanted.clone())
            .await
            .map_err(|e| format!("stream {name}: {e}"))?;
        let info = stream
            .info()
            .await
            .map_err(|e| format!("stream {name}: {e}"))?;
        let current = &info.config;
        if current.max_age != wanted.max_age
            || current.max_messages != wanted.max_messages
            || current.num_replicas != wanted.num_replicas
        {
            tracing::info!(
                stream = name,
                "updating the stream's limits to the configuration"
            );
            self.js
                .update_stream(wanted)
                .await
                .map_err(|e| format!("updating stream {name}: {e}"))?;
            stream = self
                .js
                .get_stream(&name)
                .await
                .map_err(|e| format!("stream {name}: {e}"))?;
        }
        Ok(stream)
    }

    /// Follows one module's stream into its feed, for ever: after an error, or when the
    /// stream is recreated (a new epoch), it starts again.
    async fn follow(self: Arc<Self>, endpoint: Arc<Endpoint>) {
        let module = endpoint.module;
        loop {
            if let Err(why) = self.follow_once(&endpoint).await {
                tracing::warn!(module = module.name(), why, "following the stream again");
                self.set_status(module, Err(why));
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    async fn follow_once(&self, endpoint: &Endpoint) -> Result<(), String> {
        let module = endpoint.module;
        let mut stream = self.ensure_stream(module).await?;
        let info = stream.info().await.map_err(|e| e.to_string())?.clone();
        let epoch = epoch_of(module.name(), info.created.unix_timestamp_nanos());
        let from = {
            let mut feed = endpoint.feed();
            if feed.epoch() != epoch {
                tracing::info!(module = module.name(), epoch, "a new stream: a new epoch");
                feed.restart(epoch.clone());
            }
            feed.head() + 1
        };
        let end = info.state.last_sequence;
        if end < from {
            self.caught_up(endpoint);
        }
        let deliver_policy = if from <= 1 {
            consumer::DeliverPolicy::All
        } else {
            consumer::DeliverPolicy::ByStartSequence {
                start_sequence: from,
            }
        };
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("consumer: {e}"))?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| format!("consumer: {e}"))?;
        let mut check = tokio::time::interval(IDENTITY_CHECK);
        check.tick().await;
        let name = info.config.name.clone();
        let mut last_message = tokio::time::Instant::now();
        let mut unanswered = 0;
        loop {
            tokio::select! {
                message = messages.next() => {
                    let message = match message {
                        Some(Ok(m)) => m,
                        Some(Err(e)) => return Err(format!("reading: {e}")),
                        None => return Err("the consumer ended".into()),
                    };
                    last_message = tokio::time::Instant::now();
                    let Ok(meta) = message.info() else { continue };
                    let seq = meta.stream_sequence;
                    let pending = meta.pending;
                    let at = Instant::from_millis(
                        u64::try_from(meta.published.unix_timestamp_nanos() / 1_000_000).unwrap_or(0),
                    );
                    let channel = message.subject.as_str().rsplit('.').next().unwrap_or("");
                    let frame = self.frame_of(module, channel, &message.payload)?;
                    endpoint.feed().append_at(seq, frame, at);
                    if pending == 0 {
                        self.caught_up(endpoint);
                    }
                }
                _ = check.tick() => {
                    // The stream must still be the one this follower started on, and the
                    // consumer must keep up with it. A cluster electing a new stream leader
                    // answers nothing for a few seconds: that alone changes nothing.
                    let state = match self.js.get_stream(&name).await {
                        Ok(mut s) => s.info().await.map(|i| (i.created.unix_timestamp_nanos(), i.state.last_sequence)).ok(),
                        Err(_) => None,
                    };
                    match state {
                        Some((created, _)) if epoch_of(module.name(), created) != epoch => {
                            return Err("the stream was recreated".into());
                        }
                        Some((_, last)) => {
                            unanswered = 0;
                            // Messages the stream holds that the consumer has not delivered for a
                            // while: it was on a server that died. Start a new one where the feed is.
                            if last > endpoint.feed().head() && last_message.elapsed() > STALLED {
                                return Err("the consumer stalled".into());
                            }
                        }
                        None => {
                            unanswered += 1;
                            if unanswered * IDENTITY_CHECK >= UNREACHABLE {
                                return Err("the stream does not answer".into());
                            }
                        }
                    }
                }
            }
        }
    }

    fn caught_up(&self, endpoint: &Endpoint) {
        if !endpoint.serving.swap(true, Ordering::Relaxed) {
            tracing::info!(
                module = endpoint.module.name(),
                head = endpoint.feed().head(),
                "stream read to its end: serving"
            );
        }
        self.set_status(endpoint.module, Ok(()));
    }

    /// The frame a message stands for: the frame it carries, checked against the subject's
    /// channel; or, when it is not one, a frame of that channel with no data, so that the
    /// position still reaches clients (who count it as malformed).
    fn frame_of(&self, module: Module, channel: &str, payload: &[u8]) -> Result<Frame, String> {
        let checked = std::str::from_utf8(payload)
            .map_err(|_| "not UTF-8".to_owned())
            .and_then(|text| module.frame_from(text))
            .and_then(|frame| {
                if frame.channel() == channel {
                    Ok(frame)
                } else {
                    Err(format!(
                        "type `{}` on the subject of `{channel}`",
                        frame.channel()
                    ))
                }
            });
        checked.or_else(|why| {
            self.invalid.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                module = module.name(),
                channel,
                why,
                "an invalid frame in the stream"
            );
            Frame::new(
                channel.to_owned(),
                &serde_json::Value::Null,
                None,
                Provenance::Live,
            )
            .map_err(|e| e.to_string())
        })
    }

    /// Publishes `frames` of `module` in order (each awaited to its stream acknowledgement);
    /// returns their stream sequences. A failure part-way leaves the frames before it
    /// published: the error says so. With `key`, each frame carries `Nats-Msg-Id` `key:i`,
    /// so the stream drops a repeat within its duplicate window (and acknowledges it with
    /// the first one's sequence).
    pub async fn publish(
        &self,
        module: Module,
        frames: Vec<Frame>,
        key: Option<&str>,
    ) -> Result<Vec<u64>, BrokerError> {
        let mut acks = Vec::with_capacity(frames.len());
        for (i, frame) in frames.iter().enumerate() {
            let at = frame.timestamp().unwrap_or_else(now);
            let payload = encode_sequenced(frame.channel(), frame.data(), at, None)
                .map_err(|e| BrokerError::Unavailable(e.to_string()))?;
            let mut headers = async_nats::HeaderMap::new();
            if let Some(key) = key {
                headers.insert(
                    async_nats::header::NATS_MESSAGE_ID,
                    format!("{key}:{i}").as_str(),
                );
            }
            let ack = self
                .js
                .publish_with_headers(
                    subject(module.name(), frame.channel()),
                    headers,
                    payload.into(),
                )
                .await
                .map_err(|e| BrokerError::Unavailable(e.to_string()))?;
            acks.push(ack);
        }
        let mut seqs = Vec::with_capacity(acks.len());
        for ack in acks {
            let ack = ack.await.map_err(|e| {
                BrokerError::Unavailable(format!("after {} of {}: {e}", seqs.len(), frames.len()))
            })?;
            seqs.push(ack.sequence);
        }
        Ok(seqs)
    }

    /// Ready when connected and every module's stream has been read to its end.
    pub fn ready(&self) -> Result<(), String> {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return Err("not connected to NATS".into());
        }
        let all = self.status.lock().unwrap_or_else(|e| e.into_inner());
        for module in Module::all() {
            match all.get(module.name()) {
                Some(Ok(())) => {}
                Some(Err(why)) => return Err(format!("{}: {why}", module.name())),
                None => return Err(format!("{}: not followed", module.name())),
            }
        }
        Ok(())
    }

    /// Connections to NATS established after the first.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed).saturating_sub(1)
    }

    /// Messages in the streams that were not valid frames.
    pub fn invalid(&self) -> u64 {
        self.invalid.load(Ordering::Relaxed)
    }
}
