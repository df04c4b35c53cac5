//! The confirmation dialog in headless Chromium: modal, focus on Cancel, Escape and the
//! backdrop cancel, a double submit confirms once, and it is not ready until the form is.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use support::*;
use switchboard_kit::action::ConfirmDialog;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::EventInit;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

const SOON: Duration = Duration::from_secs(2);

#[derive(Properties, PartialEq)]
struct HostProps {
    ready: bool,
    confirmed: Rc<Cell<u32>>,
    cancelled: Rc<Cell<u32>>,
}

/// Opens the dialog from a button, as a page does; closes it on either answer.
#[component]
fn Host(props: &HostProps) -> Html {
    let open = use_state(|| false);
    let on_confirm = {
        let (open, confirmed) = (open.clone(), props.confirmed.clone());
        Callback::from(move |()| {
            confirmed.set(confirmed.get() + 1);
            open.set(false);
        })
    };
    let on_cancel = {
        let (open, cancelled) = (open.clone(), props.cancelled.clone());
        Callback::from(move |()| {
            cancelled.set(cancelled.get() + 1);
            open.set(false);
        })
    };
    let ask = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(true))
    };
    html! {
        <>
            <button id="ask" onclick={ask}>{ "Disconnect…" }</button>
            <ConfirmDialog open={*open} title="Disconnect anna?" confirm="Disconnect"
                           ready={props.ready} {on_confirm} {on_cancel}>
                <p>{ "details" }</p>
            </ConfirmDialog>
        </>
    }
}

fn click(root: &web_sys::Element, selector: &str) {
    root.query_selector(selector)
        .unwrap()
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
}

fn dialog(root: &web_sys::Element) -> web_sys::HtmlDialogElement {
    root.query_selector("dialog")
        .unwrap()
        .unwrap()
        .unchecked_into()
}

fn mount(ready: bool) -> (web_sys::Element, Rc<Cell<u32>>, Rc<Cell<u32>>) {
    let root = container();
    let (confirmed, cancelled) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let props = HostProps {
        ready,
        confirmed: confirmed.clone(),
        cancelled: cancelled.clone(),
    };
    yew::Renderer::<Host>::with_root_and_props(root.clone(), props).render();
    (root, confirmed, cancelled)
}

#[wasm_bindgen_test]
async fn it_opens_modal_with_focus_on_cancel_and_a_double_submit_confirms_once() {
    let (root, confirmed, cancelled) = mount(true);
    yew::scheduler::flush().await;
    click(&root, "#ask");
    wait_for("the dialog to open", SOON, || dialog(&root).open()).await;
    let document = web_sys::window().unwrap().document().unwrap();
    let focused = document.active_element().unwrap();
    assert_eq!(
        focused.get_attribute("data-testid").as_deref(),
        Some("dialog-cancel")
    );
    // Modal: the page behind is inert (the element under the dialog's centre is the dialog).
    assert!(document.query_selector("dialog:modal").unwrap().is_some());
    click(&root, "[data-testid=dialog-confirm]");
    click(&root, "[data-testid=dialog-confirm]");
    wait_for("the dialog to close", SOON, || !dialog(&root).open()).await;
    assert_eq!(confirmed.get(), 1, "a double submit confirms once");
    assert_eq!(cancelled.get(), 0);
    // Opened again, it may be confirmed again.
    click(&root, "#ask");
    wait_for("the dialog to open again", SOON, || dialog(&root).open()).await;
    click(&root, "[data-testid=dialog-confirm]");
    wait_for("the second confirmation", SOON, || confirmed.get() == 2).await;
}

#[wasm_bindgen_test]
async fn escape_and_the_backdrop_cancel_and_an_unready_form_cannot_confirm() {
    let (root, confirmed, cancelled) = mount(false);
    yew::scheduler::flush().await;
    click(&root, "#ask");
    wait_for("the dialog to open", SOON, || dialog(&root).open()).await;
    let confirm = root
        .query_selector("[data-testid=dialog-confirm]")
        .unwrap()
        .unwrap()
        .unchecked_into::<web_sys::HtmlButtonElement>();
    assert!(confirm.disabled(), "not ready: Disconnect is disabled");
    // Escape fires `cancel` on a modal dialog.
    let escape = Event::new_with_event_init_dict("cancel", &{
        let init = EventInit::new();
        init.set_cancelable(true);
        init
    })
    .unwrap();
    dialog(&root).dispatch_event(&escape).unwrap();
    wait_for("the dialog to close", SOON, || !dialog(&root).open()).await;
    assert_eq!(cancelled.get(), 1);
    // A click on the backdrop (the dialog element itself) cancels too.
    click(&root, "#ask");
    wait_for("the dialog to open", SOON, || dialog(&root).open()).await;
    dialog(&root).click();
    wait_for("the dialog to close", SOON, || !dialog(&root).open()).await;
    assert_eq!(cancelled.get(), 2);
    assert_eq!(confirmed.get(), 0);
}
