//! One theme for the whole app, following the system's light or dark setting.
//!
//! Colours are CSS custom properties set once on `:root`, with a `prefers-color-scheme: dark`
//! override, so components refer to `var(--sb-text)` and never branch on the scheme. Canvas
//! charts cannot read CSS variables cheaply, so [`Palette`] gives the same colours to Rust.

use stylist::yew::Global;
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

/// Mounts the global stylesheet: colour variables for both schemes, typography and focus
/// rings. Render it once, at the top of the app.
#[component]
pub fn ThemeStyles() -> Html {
    let (l, d) = (Palette::LIGHT, Palette::DARK);
    let css = stylist::css!(
        r#"
        :root {
            color-scheme: light dark;
            --sb-bg: ${lbg}; --sb-surface: ${lsurface}; --sb-text: ${ltext}; --sb-muted: ${lmuted};
            --sb-border: ${lborder}; --sb-accent: ${laccent}; --sb-ok: ${lok}; --sb-warn: ${lwarn};
            --sb-bad: ${lbad}; --sb-series1: ${ls1}; --sb-series2: ${ls2}; --sb-series3: ${ls3};
        }
        @media (prefers-color-scheme: dark) {
            :root {
                --sb-bg: ${dbg}; --sb-surface: ${dsurface}; --sb-text: ${dtext}; --sb-muted: ${dmuted};
                --sb-border: ${dborder}; --sb-accent: ${daccent}; --sb-ok: ${dok}; --sb-warn: ${dwarn};
                --sb-bad: ${dbad}; --sb-series1: ${ds1}; --sb-series2: ${ds2}; --sb-series3: ${ds3};
            }
        }
        *, *::before, *::after { box-sizing: border-box; }
        html, body {
            margin: 0; background: var(--sb-bg); color: var(--sb-text);
            font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
        }
        a { color: var(--sb-accent); }
        :focus-visible { outline: 2px solid var(--sb-accent); outline-offset: 2px; }
        table.sb-table { border-collapse: collapse; width: 100%; font-size: 13px; }
        .sb-table th {
            text-align: left; color: var(--sb-muted); font-weight: 600; padding: 4px 8px;
            border-bottom: 1px solid var(--sb-border);
        }
        .sb-table td { padding: 5px 8px; border-bottom: 1px solid var(--sb-border); }
        .sb-table .num { text-align: right; font-variant-numeric: tabular-nums; }
        .sb-visually-hidden {
            position: absolute; width: 1px; height: 1px; overflow: hidden;
            clip: rect(0 0 0 0); white-space: nowrap;
        }
        .sb-dialog {
            border: 1px solid var(--sb-border); border-radius: 8px; padding: 20px;
            background: var(--sb-surface); color: var(--sb-text); max-width: min(520px, 92vw);
            box-shadow: 0 12px 40px rgba(0,0,0,.35);
        }
        .sb-dialog::backdrop { background: rgba(0,0,0,.45); }
        .sb-dialog h2 { margin: 0 0 12px; font-size: 17px; }
        .sb-dialog fieldset { border: 0; padding: 0; margin: 12px 0; display: grid; gap: 4px; }
        .sb-dialog legend { font-weight: 600; margin-bottom: 4px; }
        .sb-dialog textarea { width: 100%; min-height: 64px; font: inherit; color: inherit;
            background: var(--sb-bg); border: 1px solid var(--sb-border); border-radius: 4px; padding: 6px; }
        .sb-dialog dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0;
            font-size: 13px; }
        .sb-dialog dt { color: var(--sb-muted); }
        .sb-dialog dd { margin: 0; overflow-wrap: anywhere; }
        .sb-dialog-buttons { display: flex; justify-content: flex-end; gap: 8px; margin-top: 16px; }
        .sb-dialog-buttons button, button.sb-act {
            font: inherit; padding: 5px 12px; border-radius: 4px; cursor: pointer;
            border: 1px solid var(--sb-border); background: var(--sb-bg); color: var(--sb-text);
        }
        button.sb-act { padding: 1px 8px; font-size: 12px; }
        .sb-dialog-buttons button.danger, button.sb-act.danger {
            background: var(--sb-bad); border-color: var(--sb-bad); color: var(--sb-surface);
        }
        button.sb-act.danger { background: transparent; color: var(--sb-bad); }
        .sb-dialog-buttons button:disabled, button.sb-act:disabled { opacity: .5; cursor: not-allowed; }
        .sb-action-note { font-size: 12px; }
        td .sb-action-note { max-width: 32ch; overflow: hidden; text-overflow: ellipsis;
            white-space: nowrap; }
        .sb-action-note.pending { color: var(--sb-muted); }
        .sb-action-note.done { color: var(--sb-ok); }
        .sb-action-note.refused, .sb-action-note.no-answer { color: var(--sb-bad); }
        @media (prefers-reduced-motion: reduce) {
            * { animation: none !important; transition: none !important; }
        }
        "#,
        lbg = l.bg,
        lsurface = l.surface,
        ltext = l.text,
        lmuted = l.muted,
        lborder = l.border,
        laccent = l.accent,
        lok = l.ok,
        lwarn = l.warn,
        lbad = l.bad,
        ls1 = l.series1,
        ls2 = l.series2,
        ls3 = l.series3,
        dbg = d.bg,
        dsurface = d.surface,
        dtext = d.text,
        dmuted = d.muted,
        dborder = d.border,
        daccent = d.accent,
        dok = d.ok,
        dwarn = d.warn,
        dbad = d.bad,
        ds1 = d.series1,
        ds2 = d.series2,
        ds3 = d.series3,
    );
    html! { <Global {css} /> }
}
