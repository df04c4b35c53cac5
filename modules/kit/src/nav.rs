//! Links between the app's pages that a module can make without knowing the router, its
//! routes or the deployment's basename: the shell provides [`Navigate`] in context.

use switchboard_core::text::encode_segment;
use yew::prelude::*;

/// How a module goes to one of the app's paths (`/subscriber/sub_1003`): the shell's router,
/// and the basename the app is served under.
#[derive(Clone, Debug, PartialEq)]
pub struct Navigate {
    /// Goes to a path of the app (without the basename), without reloading it.
    pub go: Callback<String>,
    /// The basename, e.g. `/ops`; empty at the root.
    pub base: AttrValue,
}

/// The subscriber page's path for `id`.
pub fn subscriber_path(id: &str) -> String {
    format!("/subscriber/{}", encode_segment(id))
}

/// Props of [`AppLink`].
#[derive(Debug, Properties, PartialEq)]
pub struct AppLinkProps {
    /// The app's path, without the basename.
    pub to: AttrValue,
    /// For tests.
    #[prop_or_default]
    pub testid: Option<AttrValue>,
    /// The link's content.
    #[prop_or_default]
    pub children: Html,
}

/// A link to a page of the app: a plain click stays in the app (its connections and stores
/// go on); a click with a modifier, or the middle button, opens the real URL as browsers do.
#[component]
pub fn AppLink(props: &AppLinkProps) -> Html {
    let navigate = use_context::<Navigate>();
    let href = match &navigate {
        Some(n) => format!("{}{}", n.base.trim_end_matches('/'), props.to),
        None => props.to.to_string(),
    };
    let onclick = {
        let to = props.to.clone();
        Callback::from(move |e: MouseEvent| {
            let plain =
                e.button() == 0 && !(e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key());
            if let Some(n) = navigate.as_ref().filter(|_| plain) {
                e.prevent_default();
                n.go.emit(to.to_string());
            }
        })
    };
    html! { <a {href} {onclick} data-testid={props.testid.clone()}>{ props.children.clone() }</a> }
}
