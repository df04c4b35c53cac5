//! The module registry: one static list, checked as a whole by the tests.

/// A registered dashboard module, as the shell sees it until the kit's `WsModule` contract
/// lands: what the navigation needs.
#[derive(Debug)]
pub struct ModuleEntry {
    /// Stable id, also the route segment.
    pub id: &'static str,
    /// Human title for navigation and headings.
    pub title: &'static str,
}

/// Every module the shell shows, in navigation order.
pub static MODULES: &[ModuleEntry] = &[];

/// Finds a module by its route segment.
pub fn by_route(segment: &str) -> Option<&'static ModuleEntry> {
    MODULES.iter().find(|m| m.id == segment)
}
