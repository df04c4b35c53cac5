//! `Bars`: a small horizontal bar chart in HTML, for categorical totals (invoices by status,
//! tickets by priority). Every bar carries its value as text, so it needs no other text
//! alternative.

use stylist::yew::styled_component;
use yew::prelude::*;

/// One bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Category label.
    pub label: AttrValue,
    /// Length, relative to the largest bar.
    pub value: f64,
    /// The value as shown, e.g. "1,234.50 EUR (12)".
    pub text: AttrValue,
    /// A theme colour variable name without `--sb-`, e.g. "ok", "bad", "series1".
    pub tone: &'static str,
}

/// Props of [`Bars`].
#[derive(Properties, PartialEq, Debug)]
pub struct BarsProps {
    /// What the bars show.
    pub title: AttrValue,
    /// The bars, in display order.
    pub bars: Vec<Bar>,
}

/// See the module docs.
#[styled_component]
pub fn Bars(props: &BarsProps) -> Html {
    let max = props.bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let style = css!(
        "margin:0; display:grid; gap:6px; font-size:13px;
         figcaption { font-weight:600; }
         .row { display:grid; grid-template-columns:90px 1fr auto; gap:8px; align-items:center; }
         .track { height:10px; background:var(--sb-bg); border-radius:5px; overflow:hidden; }
         .fill { height:100%; border-radius:5px; transition:width .3s; }
         .text { font-variant-numeric:tabular-nums; color:var(--sb-muted); }"
    );
    let rows = props.bars.iter().map(|b| {
        let pct = if max > 0.0 { b.value / max * 100.0 } else { 0.0 };
        html! {
            <div class="row">
                <span>{ b.label.clone() }</span>
                <span class="track"><span class="fill" style={format!("display:block;width:{pct:.1}%;background:var(--sb-{})", b.tone)} /></span>
                <span class="text">{ b.text.clone() }</span>
            </div>
        }
    });
    html! {
        <figure class={style}>
            <figcaption>{ props.title.clone() }</figcaption>
            { for rows }
        </figure>
    }
}
