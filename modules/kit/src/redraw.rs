//! Coalesced re-rendering: any number of requests within one animation frame become one
//! render. This is what keeps a flood of frames from becoming a flood of renders. A view
//! may also space its renders further apart ([`use_redraw_spaced`]).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use gloo_render::{AnimationFrame, request_animation_frame};
use gloo_timers::callback::Timeout;
use yew::prelude::*;

struct Inner {
    scheduled: Cell<bool>,
    // The last requested frame. It is replaced only by the next request, never from inside
    // its own callback, because dropping a closure while it runs is an error in wasm-bindgen.
    frame: RefCell<Option<AnimationFrame>>,
    // The wait before that frame, when renders are spaced; replaced the same way.
    wait: RefCell<Option<Timeout>>,
    // Fewest milliseconds from one render to the next (0: every animation frame).
    spacing_ms: u32,
    // When the last render was let through (`Date.now()`, ms).
    rendered_at: Cell<f64>,
    update: UseForceUpdateHandle,
}

/// How long a request made at `now` waits before asking for an animation frame, when the
/// last render was at `rendered_at` and renders are at least `spacing` apart (ms).
fn wait_ms(rendered_at: f64, now: f64, spacing: u32) -> u32 {
    let due = rendered_at + f64::from(spacing);
    // In range: 0 ≤ due − now ≤ spacing unless the clock went back, which waits no longer.
    (due - now).clamp(0.0, f64::from(spacing)) as u32
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
        // Unspaced views (most of them) need no clock.
        let wait = match self.0.spacing_ms {
            0 => 0,
            spacing => wait_ms(self.0.rendered_at.get(), js_sys::Date::now(), spacing),
        };
        if wait == 0 {
            Self::on_next_frame(&self.0);
            return;
        }
        let weak = Rc::downgrade(&self.0);
        let timeout = Timeout::new(wait, move || {
            if let Some(inner) = weak.upgrade() {
                Self::on_next_frame(&inner);
            }
        });
        self.0.wait.replace(Some(timeout));
    }

    fn on_next_frame(inner: &Rc<Inner>) {
        let weak = Rc::downgrade(inner);
        let frame = request_animation_frame(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.scheduled.set(false);
                if inner.spacing_ms > 0 {
                    inner.rendered_at.set(js_sys::Date::now());
                }
                inner.update.force_update();
            }
        });
        inner.frame.replace(Some(frame));
    }
}

/// A [`Redraw`] for the calling component. Pending requests are cancelled on unmount.
#[hook]
pub fn use_redraw() -> Redraw {
    use_redraw_spaced(0)
}

/// A [`Redraw`] for the calling component whose renders are at least `spacing_ms` apart: for
/// a view whose figures no one reads faster (a table of counters under a flood), so that its
/// cost does not come with every animation frame. Pending requests are cancelled on unmount.
#[hook]
pub fn use_redraw_spaced(spacing_ms: u32) -> Redraw {
    let update = use_force_update();
    let redraw = use_memo(spacing_ms, move |spacing_ms| {
        Redraw(Rc::new(Inner {
            scheduled: Cell::new(false),
            frame: RefCell::new(None),
            wait: RefCell::new(None),
            spacing_ms: *spacing_ms,
            rendered_at: Cell::new(f64::NEG_INFINITY),
            update,
        }))
    });
    (*redraw).clone()
}

#[cfg(test)]
mod tests {
    use super::wait_ms;

    #[test]
    fn a_request_waits_out_the_rest_of_the_spacing() {
        assert_eq!(wait_ms(f64::NEG_INFINITY, 5_000.0, 200), 0);
        assert_eq!(wait_ms(1_000.0, 1_050.0, 200), 150);
        assert_eq!(wait_ms(1_000.0, 1_200.0, 200), 0);
        assert_eq!(wait_ms(1_000.0, 9_000.0, 200), 0);
        // Unspaced: every animation frame.
        assert_eq!(wait_ms(1_000.0, 1_000.0, 0), 0);
        // A clock that went back waits no longer than the spacing.
        assert_eq!(wait_ms(9_000.0, 1_000.0, 200), 200);
    }
}
