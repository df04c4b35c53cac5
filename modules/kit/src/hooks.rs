//! The reference's hooks in Yew form, plus typed and accumulating variants.
//!
//! Every hook subscribes in an effect and unsubscribes in that effect's cleanup. Frames reach
//! the hook's callback one by one, but a component re-renders at most once per animation frame
//! however many frames arrive: a flood of 5,000 frames a second costs 60 renders, not 5,000.

use std::cell::RefCell;
use std::ops::Deref;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use switchboard_core::{
    Frame, Instant, Provenance, SendError, SendOutcome, Stats, Status, StatusSnapshot, TypedChannel,
};
use yew::prelude::*;

use crate::handle::{HandleOptions, SubscriptionGuard, WsHandle, now};
use crate::redraw::use_redraw;
use crate::token::StaticToken;

/// A handle that never connects, for hooks used outside a provider.
fn inert_handle() -> WsHandle {
    WsHandle::new(HandleOptions {
        url: String::new(),
        config: switchboard_core::Config {
            auto_connect: false,
            ..Default::default()
        },
        token: Rc::new(StaticToken(None)),
        simulator: None,
        share: None,
    })
}

/// The provider's handle. Outside a provider this is an inert, never-connecting handle and an
/// error is logged, so a misplaced component shows "disconnected" instead of crashing the app.
#[hook]
pub fn use_ws_handle() -> WsHandle {
    let context = use_context::<WsHandle>();
    // Built only when there is no provider, not by every hook that finds one.
    let fallback = use_memo(context.is_none(), |missing| missing.then(inert_handle));
    match context {
        Some(handle) => handle,
        None => {
            web_sys::console::error_1(&"a Switchboard hook was used outside a WsProvider".into());
            (*fallback).clone().unwrap_or_else(inert_handle)
        }
    }
}

/// Subscribes `callback` to `pattern` for as long as the component is mounted. The newest
/// `callback` is always the one called, without resubscribing.
#[hook]
fn use_frames(pattern: Option<AttrValue>, callback: Callback<Rc<Frame>>) -> WsHandle {
    let handle = use_ws_handle();
    let latest = use_mut_ref(|| callback.clone());
    *latest.borrow_mut() = callback;
    use_effect_with((handle.clone(), pattern), move |(handle, pattern)| {
        let guard: Option<SubscriptionGuard> = pattern.as_ref().and_then(|p| {
            let trampoline = Callback::from(move |f: Rc<Frame>| latest.borrow().emit(f));
            match handle.subscribe(p, trampoline) {
                Ok(guard) => Some(guard),
                Err(e) => {
                    // Loud in every build: it is a programming error, and it is harmless to
                    // the rest of the page.
                    web_sys::console::error_1(&format!("[{}] {e}", handle.url()).into());
                    None
                }
            }
        });
        move || drop(guard)
    });
    handle
}

/// Re-renders the component whenever the connection's status snapshot changes.
#[hook]
pub fn use_status() -> StatusSnapshot {
    let handle = use_ws_handle();
    let redraw = use_redraw();
    use_effect_with(handle.clone(), move |handle| {
        let guard = handle.on_status(Callback::from(move |()| redraw.request()));
        move || drop(guard)
    });
    handle.snapshot()
}

/// What [`use_websocket`] returns: the connection's status, and its controls.
#[derive(Clone, Debug, PartialEq)]
pub struct WebSocketState {
    handle: WsHandle,
    snapshot: StatusSnapshot,
}

impl WebSocketState {
    /// Whether the live feed is up (the reference's `isConnected`).
    pub fn is_connected(&self) -> bool {
        self.snapshot.status == Status::Connected
    }

    /// The reference's `connectionStatus`.
    pub fn status(&self) -> Status {
        self.snapshot.status
    }

    /// Attempts, next retry, last close, connected since, error.
    pub fn details(&self) -> &StatusSnapshot {
        &self.snapshot
    }

    /// Counters: frames in and out, drops by reason, per-channel last frame.
    pub fn stats(&self) -> Stats {
        self.handle.stats()
    }

    /// Sends `{"type": kind, "data": data, "timestamp": now}`. While disconnected it fails
    /// with [`SendError::NotConnected`] (and logs a warning), unless the module has an outbox.
    pub fn send<T: serde::Serialize + ?Sized>(
        &self,
        kind: &str,
        data: &T,
    ) -> Result<SendOutcome, SendError> {
        self.handle.send(kind, data)
    }

    /// Connects by hand.
    pub fn connect(&self) {
        self.handle.connect();
    }

    /// Disconnects by hand; stays disconnected until `connect` or `reconnect`.
    pub fn disconnect(&self) {
        self.handle.disconnect();
    }

    /// Reconnects now, with a fresh attempt counter.
    pub fn reconnect(&self) {
        self.handle.reconnect();
    }

    /// The underlying handle.
    pub fn handle(&self) -> &WsHandle {
        &self.handle
    }
}

/// The reference's `useWebSocket(channel?, callback?)`: status and controls, and optionally a
/// callback for every frame on `channel` (`"*"` for all).
///
/// # Example
/// ```no_run
/// use switchboard_kit::hooks::use_websocket;
/// use yew::prelude::*;
///
/// #[component]
/// fn SubscriberLog() -> Html {
///     let ws = use_websocket(
///         Some("subscriber_update"),
///         Some(Callback::from(|frame: std::rc::Rc<switchboard_core::Frame>| {
///             web_sys::console::log_1(&frame.data().get().into());
///         })),
///     );
///     html! { <p>{ "Status: " }{ ws.status().as_str() }</p> }
/// }
/// ```
#[hook]
pub fn use_websocket(
    channel: Option<&str>,
    callback: Option<Callback<Rc<Frame>>>,
) -> WebSocketState {
    let pattern = callback
        .as_ref()
        .and(channel)
        .map(|c| AttrValue::from(c.to_owned()));
    let handle = use_frames(pattern, callback.unwrap_or_else(|| Callback::from(|_| ())));
    let snapshot = use_status();
    WebSocketState { handle, snapshot }
}

/// The latest value on a channel, with where it came from.
#[derive(Debug, PartialEq)]
pub struct Latest<T> {
    /// The decoded payload.
    pub value: Rc<T>,
    /// Live or simulated.
    pub provenance: Provenance,
    /// When it arrived.
    pub received_at: Instant,
}

impl<T> Clone for Latest<T> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            provenance: self.provenance,
            received_at: self.received_at,
        }
    }
}

/// What [`use_websocket_subscription`] returns: the latest value (by `Deref`), and a setter.
#[derive(Debug)]
pub struct Subscription<T> {
    latest: Option<Latest<T>>,
    slot: Rc<RefCell<Option<Latest<T>>>>,
    redraw: crate::redraw::Redraw,
}

impl<T> Deref for Subscription<T> {
    type Target = Option<Latest<T>>;
    fn deref(&self) -> &Self::Target {
        &self.latest
    }
}

impl<T> Subscription<T> {
    /// Replaces the value locally, as the reference's setter does. It counts as live.
    pub fn set(&self, value: T) {
        *self.slot.borrow_mut() = Some(Latest {
            value: Rc::new(value),
            provenance: Provenance::Live,
            received_at: now(),
        });
        self.redraw.request();
    }

    /// The value alone.
    pub fn value(&self) -> Option<&T> {
        self.latest.as_ref().map(|l| &*l.value)
    }
}

#[hook]
fn use_latest<T: DeserializeOwned + 'static>(
    channel: AttrValue,
    decode: fn(&Frame) -> Result<T, String>,
) -> Subscription<T> {
    let slot: Rc<RefCell<Option<Latest<T>>>> = use_mut_ref(|| None);
    let redraw = use_redraw();
    let handle = use_ws_handle();
    let on_frame = {
        let (slot, redraw) = (slot.clone(), redraw.clone());
        Callback::from(move |frame: Rc<Frame>| match decode(&frame) {
            Ok(value) => {
                let latest = Latest {
                    value: Rc::new(value),
                    provenance: frame.provenance(),
                    received_at: now(),
                };
                *slot.borrow_mut() = Some(latest);
                redraw.request();
            }
            // The last good value stays; the error is counted with the connection.
            Err(detail) => handle.record_decode_error(frame.channel(), &detail),
        })
    };
    use_frames(Some(channel), on_frame);
    let latest = slot.borrow().clone();
    Subscription {
        latest,
        slot,
        redraw,
    }
}

/// The reference's `useWebSocketSubscription<T>(channel)`: the latest value decoded as `T`.
/// A payload that does not decode is counted and the last good value is kept.
#[hook]
pub fn use_websocket_subscription<T: DeserializeOwned + 'static>(channel: &str) -> Subscription<T> {
    use_latest(AttrValue::from(channel.to_owned()), |frame| {
        serde_json::from_str(frame.data().get()).map_err(|e| e.to_string())
    })
}

/// Like [`use_websocket_subscription`], with a typed channel: a typo is a compile error.
///
/// # Example
/// ```no_run
/// use switchboard_core::payload::BANDWIDTH_UPDATE;
/// use switchboard_kit::hooks::use_channel;
/// use yew::prelude::*;
///
/// #[component]
/// fn Download() -> Html {
///     let latest = use_channel(BANDWIDTH_UPDATE);
///     html! { <p>{ latest.value().map(|b| b.download_mbps).unwrap_or_default() }</p> }
/// }
/// ```
#[hook]
pub fn use_channel<T: DeserializeOwned + 'static>(channel: TypedChannel<T>) -> Subscription<T> {
    // A fn pointer cannot capture the channel, so decode through the frame's own name; the
    // subscription guarantees it is this channel.
    use_latest(AttrValue::Static(channel.name()), |frame| {
        serde_json::from_str(frame.data().get()).map_err(|e| e.to_string())
    })
}

/// The current time, refreshed every `period_ms`: for durations that tick and countdowns.
#[hook]
pub fn use_now(period_ms: u32) -> Instant {
    let redraw = use_redraw();
    use_effect_with(period_ms, move |period| {
        let timer = gloo_timers::callback::Interval::new(*period, move || redraw.request());
        move || drop(timer)
    });
    now()
}
