//! Where frames come from: the broker behind every node's feeds, chosen at start.
//!
//! - [`Broker::Memory`]: the feeds are the store. One node; publishers append to them
//!   directly, and positions count up from 1 in an epoch named at start.
//! - [`Broker::Nats`]: NATS JetStream (see [`nats`]). Every frame goes through a stream per
//!   module; each node consumes every stream and appends what it reads to its own feeds at
//!   the stream's sequence, so every node's positions, history and state are the stream's.

pub mod nats;

use std::sync::Arc;

use switchboard_core::Frame;

use crate::{Gateway, Module, now};

/// Why a publish did not go through.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The module is not served.
    #[error("no such module")]
    NoSuchModule,
    /// The broker is unreachable or refused it.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
}

/// The broker a gateway runs with.
#[derive(Clone, Debug)]
pub enum Broker {
    /// In memory, one node.
    Memory,
    /// NATS JetStream.
    Nats(Arc<nats::Nats>),
}

impl Broker {
    /// Publishes `frames` of `module`, in order; returns their positions. With `key` (the
    /// request's `Idempotency-Key`, scoped to its publisher), a repeat of the request within
    /// NATS's duplicate window publishes nothing twice: a retry after an answer was lost is
    /// safe. The memory broker answers every request, so it needs no key.
    pub async fn publish(
        &self,
        gateway: &Gateway,
        module: Module,
        frames: Vec<Frame>,
        key: Option<&str>,
    ) -> Result<Vec<u64>, BrokerError> {
        match self {
            Broker::Memory => {
                let endpoint = gateway.endpoint(module).ok_or(BrokerError::NoSuchModule)?;
                let mut feed = endpoint.feed();
                let first = feed.head() + 1;
                feed.publish(frames, now());
                Ok((first..=feed.head()).collect())
            }
            Broker::Nats(nats) => nats.publish(module, frames, key).await,
        }
    }

    /// Whether the broker is reachable and its streams exist (`/readyz`); the reason if not.
    pub fn ready(&self) -> Result<(), String> {
        match self {
            Broker::Memory => Ok(()),
            Broker::Nats(nats) => nats.ready(),
        }
    }

    /// Times the broker connection was re-established since start.
    pub fn reconnects(&self) -> u64 {
        match self {
            Broker::Memory => 0,
            Broker::Nats(nats) => nats.reconnects(),
        }
    }

    /// A name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Broker::Memory => "memory",
            Broker::Nats(_) => "nats",
        }
    }
}
