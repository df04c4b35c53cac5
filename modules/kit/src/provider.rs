//! [`WsProvider`]: one isolated connection per module, shared with its subtree by context.

use std::rc::Rc;

use switchboard_core::Config;
use switchboard_core::simulator::Simulator;
use yew::prelude::*;

use crate::handle::{HandleOptions, WsHandle};
use crate::token::{SessionStorageToken, TokenSource};

/// Makes a fresh simulator for a provider. Compared by pointer.
#[derive(Clone)]
pub struct SimulatorFactory(pub Rc<dyn Fn() -> Box<dyn Simulator>>);

impl PartialEq for SimulatorFactory {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for SimulatorFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimulatorFactory(..)")
    }
}

/// A token source for props. Compared by pointer.
#[derive(Clone)]
pub struct TokenProp(pub Rc<dyn TokenSource>);

impl PartialEq for TokenProp {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

thread_local! {
    /// One default source for every provider, so that a parent's re-render does not hand
    /// the provider a "new" token source and so replace its connection.
    static DEFAULT_TOKEN: Rc<dyn TokenSource> = Rc::new(SessionStorageToken::default());
}

impl Default for TokenProp {
    fn default() -> Self {
        Self(DEFAULT_TOKEN.with(Rc::clone))
    }
}

impl std::fmt::Debug for TokenProp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenProp(..)")
    }
}

/// Props of [`WsProvider`]. They mirror the reference provider's, plus the rest of the
/// connection settings. A change of any of them replaces the connection.
#[derive(Properties, PartialEq, Debug)]
pub struct WsProviderProps {
    /// The resolved WebSocket URL (`ws://` or `wss://`).
    pub url: AttrValue,
    /// Connection settings: channels, backoff, staleness, outbox, limits.
    #[prop_or_default]
    pub config: Config,
    /// Connect on mount (the reference's `autoConnect`). Default `true`.
    #[prop_or(true)]
    pub auto_connect: bool,
    /// The reference's `reconnectInterval`, in ms; overrides `config.backoff.interval`.
    #[prop_or_default]
    pub reconnect_interval: Option<u32>,
    /// The reference's `maxReconnectAttempts`; overrides `config.backoff.max_attempts`.
    #[prop_or_default]
    pub max_reconnect_attempts: Option<u32>,
    /// Where the auth token comes from. Default: `sessionStorage`.
    #[prop_or_default]
    pub token: TokenProp,
    /// The simulator used while offline; `None` turns simulation off.
    #[prop_or_default]
    pub simulator: Option<SimulatorFactory>,
    /// The module's views.
    #[prop_or_default]
    pub children: Html,
}

impl WsProviderProps {
    fn effective_config(&self) -> Config {
        let mut config = self.config.clone();
        config.auto_connect = self.auto_connect;
        if let Some(ms) = self.reconnect_interval {
            config.backoff.interval = std::time::Duration::from_millis(ms.into());
        }
        if let Some(n) = self.max_reconnect_attempts {
            config.backoff.max_attempts = n;
        }
        config
    }
}

/// One module's connection. Children reach it with the hooks in [`crate::hooks`].
///
/// Unmounting closes the socket with code 1000 and cancels every timer and listener.
///
/// # Example
/// ```no_run
/// use switchboard_kit::provider::WsProvider;
/// use yew::prelude::*;
///
/// #[component]
/// fn NetworkArea() -> Html {
///     html! {
///         <WsProvider url="wss://network.example.com/ws" reconnect_interval={Some(3000)}>
///             <p>{ "views that use the hooks go here" }</p>
///         </WsProvider>
///     }
/// }
/// ```
#[component]
pub fn WsProvider(props: &WsProviderProps) -> Html {
    let handle = use_memo(
        (
            props.url.clone(),
            props.effective_config(),
            props.token.clone(),
            props.simulator.clone(),
        ),
        |(url, config, token, simulator)| {
            WsHandle::new(HandleOptions {
                url: url.to_string(),
                config: config.clone(),
                token: token.0.clone(),
                simulator: simulator.as_ref().map(|f| (f.0)()),
                share: None,
            })
        },
    );
    {
        let handle = (*handle).clone();
        use_effect_with(handle, |handle| {
            handle.start();
            let handle = handle.clone();
            move || handle.shutdown()
        });
    }
    html! {
        <ContextProvider<WsHandle> context={(*handle).clone()}>
            { props.children.clone() }
        </ContextProvider<WsHandle>>
    }
}

/// Props of [`WsScope`].
#[derive(Properties, PartialEq, Debug)]
pub struct WsScopeProps {
    /// A handle made and started elsewhere (the shell keeps one per module for the app's life).
    pub handle: WsHandle,
    /// Views that use the hooks.
    #[prop_or_default]
    pub children: Html,
}

/// Gives a subtree an existing connection. [`WsProvider`] owns its connection; the shell uses
/// this instead so a module's one connection serves its nav dot, card and page alike.
#[component]
pub fn WsScope(props: &WsScopeProps) -> Html {
    html! {
        <ContextProvider<WsHandle> context={props.handle.clone()}>
            { props.children.clone() }
        </ContextProvider<WsHandle>>
    }
}
