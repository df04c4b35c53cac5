//! What every module's actions share on screen: the confirmation dialog, the state of an
//! action in words, and why actions are not offered.
//!
//! The rules, whatever the module: an action is offered only on live data, while connected,
//! and when the server granted it to this token ([`WsHandle::may`](crate::WsHandle::may));
//! a destructive one asks first, in a modal dialog; and the row says where the action
//! stands in words until the backend's own frames change the row.

use switchboard_core::Status;
use switchboard_core::action::{ActionPayload, Entry, Phase, TypedAction};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::WsHandle;

/// How an action's state reads on its row: a stable name (for styles and tests) and the
/// words.
pub fn phase_words(entry: &Entry) -> (&'static str, String) {
    match &entry.phase {
        Phase::Pending => ("pending", "Waiting for the backend…".to_owned()),
        Phase::Done { .. } => ("done", "Done".to_owned()),
        Phase::Refused(why) => ("refused", format!("Refused: {why}")),
        Phase::NoAnswer => (
            "no-answer",
            "No answer from the backend: it may or may not have been carried out".to_owned(),
        ),
    }
}

/// Why a module offers no action right now, when it is for want of a connection (said on the
/// panel); `None` when connected.
pub fn unavailable(status: Status) -> Option<&'static str> {
    (status != Status::Connected)
        .then_some("Actions are unavailable while the feed is offline: they are never queued.")
}

/// The state of the latest action on a row, in words; nothing when no action was taken. (A
/// function, not a component: it has no state of its own, and every row calls it.)
pub fn action_note(entry: Option<&Entry>) -> Html {
    let Some(entry) = entry else {
        return Html::default();
    };
    let (phase, words) = phase_words(entry);
    html! {
        <span class={classes!("sb-action-note", phase)} data-testid="action-state"
              data-phase={phase} role="status" title={words.clone()}>{ words }</span>
    }
}

/// A small button that takes an action on a row (`data-testid` names it for tests).
pub fn act_button(
    label: &'static str,
    testid: &'static str,
    enabled: bool,
    onclick: Callback<MouseEvent>,
) -> Html {
    html! {
        <button type="button" class="sb-act" data-testid={testid} disabled={!enabled} {onclick}>
            { label }
        </button>
    }
}

/// Sends an action; when it cannot be sent (offline, rate-limited), says why in `note`.
pub fn act_or_note<T: ActionPayload>(
    handle: &WsHandle,
    action: TypedAction<T>,
    payload: T,
    note: &UseStateHandle<Option<String>>,
) {
    match handle.act(action, payload) {
        Ok(_) => note.set(None),
        Err(e) => note.set(Some(format!("Not sent: {e}"))),
    }
}

/// A modal confirmation dialog.
#[derive(Debug, Properties, PartialEq)]
pub struct ConfirmDialogProps {
    /// Shown while true.
    pub open: bool,
    /// The question, e.g. "Disconnect anna.k@example.net?".
    pub title: AttrValue,
    /// The confirming button's label, e.g. "Disconnect".
    pub confirm: AttrValue,
    /// Whether the confirming button may be pressed (the form is complete).
    #[prop_or(true)]
    pub ready: bool,
    /// Styled as a destructive action.
    #[prop_or(true)]
    pub destructive: bool,
    /// Confirmed: called once per opening, however often the button is pressed.
    pub on_confirm: Callback<()>,
    /// Cancelled: the Cancel button, Escape, or the dialog closed otherwise.
    pub on_cancel: Callback<()>,
    /// The details and the form.
    #[prop_or_default]
    pub children: Html,
}

/// See [`ConfirmDialogProps`]. A native `<dialog>` opened with `showModal()`: the rest of
/// the page is inert, so focus stays inside it; Escape cancels; every control is a button or
/// a form field, so it is used entirely by keyboard. Focus starts on Cancel, so Enter alone
/// never confirms a destructive action.
#[component]
pub fn ConfirmDialog(props: &ConfirmDialogProps) -> Html {
    let dialog = use_node_ref();
    let cancel_button = use_node_ref();
    // Confirmed once per opening: a double click sends once.
    let confirmed = use_mut_ref(|| false);
    {
        let (dialog, cancel_button, confirmed) =
            (dialog.clone(), cancel_button.clone(), confirmed.clone());
        use_effect_with(props.open, move |open| {
            if let Some(d) = dialog.cast::<web_sys::HtmlDialogElement>() {
                if *open && !d.open() {
                    *confirmed.borrow_mut() = false;
                    if d.show_modal().is_ok()
                        && let Some(b) = cancel_button.cast::<web_sys::HtmlElement>()
                    {
                        let _ = b.focus();
                    }
                } else if !*open && d.open() {
                    d.close();
                }
            }
        });
    }
    let on_cancel = props.on_cancel.clone();
    let oncancel = {
        let on_cancel = on_cancel.clone();
        Callback::from(move |e: Event| {
            // Escape: the parent closes the dialog by saying so.
            e.prevent_default();
            on_cancel.emit(());
        })
    };
    let onsubmit = {
        let (on_confirm, confirmed, ready) =
            (props.on_confirm.clone(), confirmed.clone(), props.ready);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if ready && !*confirmed.borrow() {
                *confirmed.borrow_mut() = true;
                on_confirm.emit(());
            }
        })
    };
    let cancel_click = Callback::from(move |_: MouseEvent| on_cancel.emit(()));
    // A click on the backdrop (the dialog element itself, outside its form) cancels too.
    let backdrop = {
        let on_cancel = props.on_cancel.clone();
        Callback::from(move |e: MouseEvent| {
            let on_dialog = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlDialogElement>().ok())
                .is_some();
            if on_dialog {
                on_cancel.emit(());
            }
        })
    };
    html! {
        <dialog ref={dialog} class="sb-dialog" aria-labelledby="sb-dialog-title" {oncancel}
                onclick={backdrop} data-testid="confirm-dialog">
            <form method="dialog" {onsubmit}>
                <h2 id="sb-dialog-title">{ &props.title }</h2>
                { props.children.clone() }
                <div class="sb-dialog-buttons">
                    <button type="button" ref={cancel_button} onclick={cancel_click}
                            data-testid="dialog-cancel">{ "Cancel" }</button>
                    <button type="submit" disabled={!props.ready}
                            class={classes!(props.destructive.then_some("danger"))}
                            data-testid="dialog-confirm">{ &props.confirm }</button>
                </div>
            </form>
        </dialog>
    }
}
