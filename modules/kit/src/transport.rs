//! The browser socket. It only turns `WebSocket` events into core [`Event`]s; it decides
//! nothing. Its listeners live exactly as long as the [`Socket`] value: dropping it removes
//! them and closes the socket, so reconnects leak nothing.

use std::rc::Rc;

use gloo_events::EventListener;
use switchboard_core::{Event, SocketId};
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// What the socket reports, already in the core's terms (text copied out of JS).
#[derive(Debug)]
pub(crate) enum SocketEvent {
    Opened,
    Closed { code: u16, reason: String },
    Text(String),
    Binary,
    Oversized,
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
    /// Opens `url`. `max_bytes` lets oversized text frames be refused before they are copied
    /// into wasm memory. `on_event` receives every event of this socket.
    pub(crate) fn open(
        url: &str,
        id: SocketId,
        max_bytes: usize,
        on_event: impl Fn(SocketId, SocketEvent) + 'static,
    ) -> Result<Self, String> {
        let ws = WebSocket::new(url).map_err(|e| format!("{e:?}"))?;
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
