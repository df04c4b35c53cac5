//! Coalesced re-rendering: any number of requests within one animation frame become one
//! render. This is what keeps a flood of frames from becoming a flood of renders.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use gloo_render::{AnimationFrame, request_animation_frame};
use yew::prelude::*;

struct Inner {
    scheduled: Cell<bool>,
    // The last requested frame. It is replaced only by the next request, never from inside
    // its own callback, because dropping a closure while it runs is an error in wasm-bindgen.
    frame: RefCell<Option<AnimationFrame>>,
    update: UseForceUpdateHandle,
}

/// Requests a re-render of its component on the next animation frame.
#[derive(Clone)]
pub struct Redraw(Rc<Inner>);

impl fmt::Debug for Redraw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redraw")
            .field("scheduled", &self.0.scheduled.get())
            .finish()
    }
}

impl PartialEq for Redraw {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Redraw {
    /// Schedules one render, unless one is already scheduled.
    pub fn request(&self) {
        if self.0.scheduled.replace(true) {
            return;
        }
        let weak = Rc::downgrade(&self.0);
        let frame = request_animation_frame(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.scheduled.set(false);
                inner.update.force_update();
            }
        });
        self.0.frame.replace(Some(frame));
    }
}

/// A [`Redraw`] for the calling component. Pending requests are cancelled on unmount.
#[hook]
pub fn use_redraw() -> Redraw {
    let update = use_force_update();
    let redraw = use_memo((), move |_| {
        Redraw(Rc::new(Inner {
            scheduled: Cell::new(false),
            frame: RefCell::new(None),
            update,
        }))
    });
    (*redraw).clone()
}
