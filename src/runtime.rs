//! One live connection per enabled module, for the life of the app, built from the registry
//! and `config.json`. The nav dot, the overview card and the module page all share it.

use std::rc::Rc;

use switchboard_kit::WsHandle;
use switchboard_kit::handle::{HandleOptions, ShareOptions};
use switchboard_kit::module::WsModule;
use switchboard_kit::token::SessionStorageToken;

use crate::config::{ConfigError, RuntimeConfig, resolve_url};
use crate::registry::MODULES;

/// The loaded configuration and what was wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The configuration in force (defaults where the file was missing or wrong).
    pub config: RuntimeConfig,
    /// Problems to show, naming the file and the field.
    pub errors: Vec<ConfigError>,
}

/// A module as the shell runs it.
#[derive(Clone)]
pub struct ModuleRuntime {
    /// The module.
    pub module: &'static dyn WsModule,
    /// Its connection, or why it has none (a refused URL). Shown in the module's area only.
    pub handle: Result<WsHandle, String>,
}

impl PartialEq for ModuleRuntime {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(self.module, other.module) && self.handle == other.handle
    }
}

impl std::fmt::Debug for ModuleRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleRuntime")
            .field("id", &self.module.id())
            .finish_non_exhaustive()
    }
}

fn page_location() -> (String, String) {
    let location = web_sys::window().map(|w| w.location());
    let get = |f: fn(&web_sys::Location) -> Result<String, wasm_bindgen::JsValue>| {
        location
            .as_ref()
            .and_then(|l| f(l).ok())
            .unwrap_or_default()
    };
    (
        get(web_sys::Location::protocol),
        get(web_sys::Location::host),
    )
}

/// Builds the runtimes of every enabled module. Nothing connects until [`start`].
pub fn build(config: &RuntimeConfig) -> Vec<ModuleRuntime> {
    let (protocol, host) = page_location();
    MODULES
        .iter()
        .filter_map(|&module| {
            let mc = config.module(module.id());
            if !mc.enabled {
                return None;
            }
            let url = mc.url.as_deref().unwrap_or(module.default_url());
            let handle = resolve_url(url, &protocol, &host)
                .map_err(|e| e.to_string())
                .map(|url| {
                    let mut connection = module.connection();
                    connection.channels = module.channels().to_vec();
                    let key = mc.token_key.unwrap_or_else(|| config.token_key.clone());
                    let simulate = mc.simulation.unwrap_or(config.simulation);
                    let handle = WsHandle::new(HandleOptions {
                        url,
                        config: connection,
                        token: Rc::new(SessionStorageToken::new(key)),
                        simulator: if simulate { module.simulator() } else { None },
                        share: module
                            .keep()
                            .filter(|_| config.shares(module.id()))
                            .map(|keep| ShareOptions {
                                module: module.id(),
                                keep,
                            }),
                    });
                    // The module's state lives beside its connection, for the app's life.
                    module.attach(&handle);
                    handle
                });
            Some(ModuleRuntime { module, handle })
        })
        .collect()
}

/// The running modules, in navigation order: built and started by [`start`], and shut down
/// (sockets closed, timers cancelled) when the last owner drops them, as the app unmounts.
#[derive(Debug, PartialEq)]
pub struct Runtimes(Vec<ModuleRuntime>);

impl std::ops::Deref for Runtimes {
    type Target = [ModuleRuntime];

    fn deref(&self) -> &[ModuleRuntime] {
        &self.0
    }
}

impl Runtimes {
    /// The connections of the modules that have one.
    fn handles(&self) -> impl Iterator<Item = &WsHandle> {
        self.0.iter().filter_map(|r| r.handle.as_ref().ok())
    }
}

impl Drop for Runtimes {
    fn drop(&mut self) {
        for handle in self.handles() {
            handle.shutdown();
        }
    }
}

/// Builds the runtimes for `loaded` and starts every connection at once. The app calls it
/// before its first render, which takes about 200 ms on a slow machine: a socket that
/// `index.html` opened early sends its auth frame first, and the answer arrives while the
/// page renders.
pub fn start(loaded: &Loaded) -> Rc<Runtimes> {
    // The development token from `cargo xtask dev`; release builds never honour it.
    if cfg!(debug_assertions)
        && let Some(token) = &loaded.config.dev_token
        && let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten())
    {
        let _ = storage.set_item(&loaded.config.token_key, token);
    }
    let runtimes = Runtimes(build(&loaded.config));
    for handle in runtimes.handles() {
        handle.start();
    }
    Rc::new(runtimes)
}
