//! One theme for the whole app, following the system's light or dark setting.
//!
//! Colours are CSS custom properties set once on `:root`, with a `prefers-color-scheme: dark`
//! override, so components refer to `var(--sb-text)` and never branch on the scheme. They,
//! the typography and the pieces every module shares (tables, the dialog, action buttons)
//! are a static stylesheet, `assets/theme.css`, which the page loads before the wasm, so its
//! first paint is already styled. Canvas charts cannot read CSS variables cheaply, so
//! [`Palette`] gives the same colours to Rust; a test keeps the two equal.

use yew::prelude::*;

/// The theme's colours, as CSS colour strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    /// Page background.
    pub bg: &'static str,
    /// Cards and panels.
    pub surface: &'static str,
    /// Body text.
    pub text: &'static str,
    /// Secondary text: labels, units, captions.
    pub muted: &'static str,
    /// Hairlines and grid lines.
    pub border: &'static str,
    /// Links and focus.
    pub accent: &'static str,
    /// Healthy, connected.
    pub ok: &'static str,
    /// Degraded, connecting, simulated.
    pub warn: &'static str,
    /// Failed, error.
    pub bad: &'static str,
    /// First data series (download).
    pub series1: &'static str,
    /// Second data series (upload).
    pub series2: &'static str,
    /// Third data series (latency).
    pub series3: &'static str,
}

impl Palette {
    /// The light scheme.
    pub const LIGHT: Palette = Palette {
        bg: "#f4f6f9",
        surface: "#ffffff",
        text: "#18202b",
        muted: "#5b6776",
        border: "#d9dee5",
        accent: "#1f5fbf",
        ok: "#19794a",
        warn: "#9a5b00",
        bad: "#b42323",
        series1: "#1f6fd1",
        series2: "#0f8a6a",
        series3: "#b2531b",
    };

    /// The dark scheme.
    pub const DARK: Palette = Palette {
        bg: "#0f141b",
        surface: "#171e27",
        text: "#e6ebf1",
        muted: "#98a4b3",
        border: "#2a3441",
        accent: "#7fb0ff",
        ok: "#4cc38a",
        warn: "#e3a64a",
        bad: "#ff7b72",
        series1: "#6aa8ff",
        series2: "#4fd1a5",
        series3: "#f59e5b",
    };
}

/// Whether the system asks for dark mode right now.
pub fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// Whether dark mode is on, updated when the system setting changes.
#[hook]
pub fn use_prefers_dark() -> bool {
    let dark = use_state(prefers_dark);
    {
        let dark = dark.clone();
        use_effect_with((), move |_| {
            let query = web_sys::window()
                .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten());
            let listener = query.map(|q| {
                gloo_events::EventListener::new(&q, "change", move |_| dark.set(prefers_dark()))
            });
            move || drop(listener)
        });
    }
    *dark
}

#[cfg(test)]
mod tests {
    use super::Palette;

    /// The stylesheet's colours in the first `:root` block from `from`: its `--sb-<name>:
    /// <value>;` declarations, in order.
    fn declared(css: &str, from: usize) -> Vec<(String, String)> {
        let rest = &css[from..];
        let start = rest
            .find(":root {")
            .map_or(rest.len(), |i| i + ":root {".len());
        let block = &rest[start..];
        let block = &block[..block.find('}').unwrap_or(block.len())];
        block
            .split(';')
            .filter_map(|d| d.trim().strip_prefix("--sb-")?.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }

    fn pairs(p: &Palette) -> Vec<(String, String)> {
        [
            ("bg", p.bg),
            ("surface", p.surface),
            ("text", p.text),
            ("muted", p.muted),
            ("border", p.border),
            ("accent", p.accent),
            ("ok", p.ok),
            ("warn", p.warn),
            ("bad", p.bad),
            ("series1", p.series1),
            ("series2", p.series2),
            ("series3", p.series3),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec()
    }

    #[test]
    fn the_stylesheet_and_the_palette_agree() {
        let css = include_str!("../../../assets/theme.css");
        let dark = css
            .find("@media (prefers-color-scheme: dark)")
            .expect("a dark block");
        assert_eq!(declared(css, 0), pairs(&Palette::LIGHT));
        assert_eq!(declared(css, dark), pairs(&Palette::DARK));
    }
}
