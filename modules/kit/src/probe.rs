//! Paint timing for the benchmark. Each chart redraw that shows new samples records how long
//! the oldest of them had waited since its frame arrived, how long the draw took, and when it
//! ended. The record is bounded, so a long shift costs a fixed few kilobytes, and reading it
//! empties it (`window.wasmBindings.paint_samples()` in the shell).

use std::cell::RefCell;
use std::collections::VecDeque;

/// Samples kept; older ones are dropped first.
pub const KEEP: usize = 4096;

/// One chart redraw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaintSample {
    /// From the arrival of the oldest frame this redraw newly shows to the end of the draw.
    pub waited_ms: f64,
    /// The draw itself.
    pub draw_ms: f64,
    /// When the draw ended, in `performance.now()` time: the pixels are on screen at the next
    /// animation frame after it.
    pub ended_at: f64,
}

thread_local! {
    static SAMPLES: RefCell<VecDeque<PaintSample>> = const { RefCell::new(VecDeque::new()) };
}

/// Keeps `sample`, dropping the oldest beyond [`KEEP`].
pub fn record(sample: PaintSample) {
    SAMPLES.with_borrow_mut(|samples| {
        if samples.len() == KEEP {
            samples.pop_front();
        }
        samples.push_back(sample);
    });
}

/// Every kept sample, oldest first; the record is empty afterwards.
pub fn take() -> Vec<PaintSample> {
    SAMPLES.with_borrow_mut(|samples| samples.drain(..).collect())
}

/// `performance.now()`, or 0 where there is no `performance`.
pub(crate) fn perf_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> PaintSample {
        PaintSample {
            waited_ms: n as f64,
            draw_ms: 1.0,
            ended_at: 0.0,
        }
    }

    #[test]
    fn keeps_the_newest_and_take_empties() {
        for n in 0..KEEP + 10 {
            record(sample(n));
        }
        let kept = take();
        assert_eq!(kept.len(), KEEP);
        assert_eq!(kept[0], sample(10));
        assert_eq!(kept[KEEP - 1], sample(KEEP + 9));
        assert!(take().is_empty());
    }
}
