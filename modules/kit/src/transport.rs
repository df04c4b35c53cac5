//! The browser socket. It only turns `WebSocket` events into core [`Event`]s; it decides
//! nothing. Its listeners live exactly as long as the [`Socket`] value: dropping it removes
//! them and closes the socket, so reconnects leak nothing.

use std::collections::VecDeque;
use std::rc::Rc;

use gloo_events::EventListener;
use switchboard_core::{Event, SocketId};
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// What the socket reports, already in the core's terms (text copied out of JS).
#[derive(Debug)]
pub(crate) enum SocketEvent {
    Opened,
    Closed {
        code: u16,
        reason: String,
    },
    Text(String),
    Binary,
    Oversized,
    /// The [`Inbox`] dropped this many frames unread.
    Lost(u64),
}

/// Most socket events waiting to be fed to the core: far more than a replay of the
/// development backend's whole history (10,000 frames) between two slices.
pub(crate) const INBOX_EVENTS: usize = 50_000;
/// Most bytes of frame text waiting to be fed to the core.
pub(crate) const INBOX_BYTES: usize = 64 << 20;

/// Socket events not yet fed to the core, oldest first, bounded by [`INBOX_EVENTS`] and
/// [`INBOX_BYTES`]. A frame that finds it full is dropped and counted in a `Lost` event in its
/// place, which tells the core (it resyncs when the feed carries positions). Opens and closes
/// are never dropped.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    events: VecDeque<(SocketId, SocketEvent)>,
    bytes: usize,
}

impl Inbox {
    pub(crate) fn push(&mut self, socket: SocketId, event: SocketEvent) {
        let size = match &event {
            SocketEvent::Text(text) => text.len(),
            _ => 0,
        };
        let is_frame = matches!(
            event,
            SocketEvent::Text(_) | SocketEvent::Binary | SocketEvent::Oversized
        );
        let full = self.events.len() >= INBOX_EVENTS || self.bytes + size > INBOX_BYTES;
        if is_frame && full {
            match self.events.back_mut() {
                Some((s, SocketEvent::Lost(n))) if *s == socket => *n += 1,
                _ => self.events.push_back((socket, SocketEvent::Lost(1))),
            }
            return;
        }
        self.bytes += size;
        self.events.push_back((socket, event));
    }

    pub(crate) fn pop(&mut self) -> Option<(SocketId, SocketEvent)> {
        let next = self.events.pop_front();
        if let Some((_, SocketEvent::Text(text))) = &next {
            self.bytes -= text.len();
        }
        next
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.events.clear();
        self.bytes = 0;
    }
}

impl SocketEvent {
    /// The core event for this socket event. `token` is read only for `Opened`.
    pub(crate) fn to_core(
        &self,
        socket: SocketId,
        token: impl FnOnce() -> Option<String>,
    ) -> Event<'_> {
        match self {
            SocketEvent::Opened => Event::Opened {
                socket,
                token: token(),
            },
            SocketEvent::Closed { code, reason } => Event::Closed {
                socket,
                code: *code,
                reason: reason.clone(),
            },
            SocketEvent::Text(text) => Event::Text { socket, text },
            SocketEvent::Binary => Event::Binary { socket },
            SocketEvent::Oversized => Event::Oversized { socket },
            SocketEvent::Lost(frames) => Event::Lost {
                socket,
                frames: *frames,
            },
        }
    }
}

/// Turns a DOM event into a socket event, or ignores it.
type EventMap = Box<dyn Fn(&web_sys::Event) -> Option<SocketEvent>>;

/// One open or opening WebSocket and its listeners.
pub(crate) struct Socket {
    id: SocketId,
    ws: WebSocket,
    listeners: Vec<EventListener>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Socket {
    /// Opens `url`, or adopts the socket to it that `index.html` opened early
    /// ([`crate::early`]). `max_bytes` lets oversized text frames be refused before they are
    /// copied into wasm memory. `on_event` receives every event of this socket.
    pub(crate) fn open(
        url: &str,
        id: SocketId,
        max_bytes: usize,
        on_event: impl Fn(SocketId, SocketEvent) + 'static,
    ) -> Result<Self, String> {
        let ws = match crate::early::socket(url) {
            Some(ws) => ws,
            None => WebSocket::new(url).map_err(|e| format!("{e:?}"))?,
        };
        let opened = ws.ready_state() == WebSocket::OPEN;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_event = Rc::new(on_event);
        let listen = |name: &'static str, map: EventMap| {
            let on_event = on_event.clone();
            EventListener::new(&ws, name, move |e| {
                if let Some(event) = map(e) {
                    on_event(id, event);
                }
            })
        };
        let listeners = vec![
            listen("open", Box::new(|_| Some(SocketEvent::Opened))),
            listen(
                "close",
                Box::new(|e| {
                    let close = e.dyn_ref::<CloseEvent>()?;
                    Some(SocketEvent::Closed {
                        code: close.code(),
                        reason: close.reason(),
                    })
                }),
            ),
            listen(
                "message",
                Box::new(move |e| {
                    let data = e.dyn_ref::<MessageEvent>()?.data();
                    Some(match data.dyn_into::<js_sys::JsString>() {
                        // UTF-8 is never shorter than UTF-16, so this refuses without copying.
                        Ok(s) if s.length() as usize > max_bytes => SocketEvent::Oversized,
                        Ok(s) => SocketEvent::Text(String::from(s)),
                        Err(_) => SocketEvent::Binary,
                    })
                }),
            ),
        ];
        if opened {
            // An adopted socket that opened before the code arrived: reported as a fresh one's
            // open would be, after this call (the caller may hold its state borrowed).
            wasm_bindgen_futures::spawn_local(async move { on_event(id, SocketEvent::Opened) });
        }
        Ok(Self { id, ws, listeners })
    }

    pub(crate) fn id(&self) -> SocketId {
        self.id
    }

    pub(crate) fn send(&self, text: &str) {
        // A send on a socket that is closing fails; the close event that follows tells the core.
        let _ = self.ws.send_with_str(text);
    }

    /// Closes with `code` and `reason`, without reporting the close back.
    pub(crate) fn close(mut self, code: u16, reason: &str) {
        self.listeners.clear();
        let _ = self.ws.close_with_code_and_reason(code, reason);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.listeners.clear();
        if self.ws.ready_state() <= WebSocket::OPEN {
            let _ = self.ws.close_with_code_and_reason(1000, "provider dropped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_inbox_counts_the_frames_it_drops_and_keeps_closes() {
        let (a, b) = (SocketId(1), SocketId(2));
        let mut inbox = Inbox::default();
        for _ in 0..INBOX_EVENTS {
            inbox.push(a, SocketEvent::Binary);
        }
        inbox.push(a, SocketEvent::Text("x".into()));
        inbox.push(a, SocketEvent::Oversized);
        inbox.push(b, SocketEvent::Text("y".into()));
        inbox.push(
            a,
            SocketEvent::Closed {
                code: 1006,
                reason: String::new(),
            },
        );
        let tail: Vec<String> = std::iter::from_fn(|| inbox.pop())
            .skip(INBOX_EVENTS)
            .map(|(s, e)| format!("{}:{e:?}", s.0))
            .collect();
        assert_eq!(
            tail,
            [
                "1:Lost(2)",
                "2:Lost(1)",
                r#"1:Closed { code: 1006, reason: "" }"#
            ]
        );
        assert!(inbox.is_empty());
    }

    #[test]
    fn the_inbox_is_bounded_by_bytes_too() {
        let mut inbox = Inbox::default();
        let big = "x".repeat(INBOX_BYTES / 2);
        for _ in 0..3 {
            inbox.push(SocketId(0), SocketEvent::Text(big.clone()));
        }
        assert!(matches!(inbox.pop(), Some((_, SocketEvent::Text(_)))));
        assert!(matches!(inbox.pop(), Some((_, SocketEvent::Text(_)))));
        assert!(matches!(inbox.pop(), Some((_, SocketEvent::Lost(1)))));
        // Room again once read.
        inbox.push(SocketId(0), SocketEvent::Text(big));
        assert!(matches!(inbox.pop(), Some((_, SocketEvent::Text(_)))));
    }
}
