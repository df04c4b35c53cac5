//! Text from the wire, cut to a size a view and a store can afford. A frame may carry a
//! string of up to the frame limit (1 MiB by default); kept as it is, a table of such rows
//! would hold gigabytes. Modules cut every string they keep with [`clip`].

/// `s` cut to at most `max_chars` characters, ending in `…` when something was cut.
///
/// ```
/// use switchboard_core::text::clip;
/// assert_eq!(clip("TCK-1".into(), 8), "TCK-1");
/// assert_eq!(clip("a very long subject".into(), 8), "a very …");
/// ```
pub fn clip(mut s: String, max_chars: usize) -> String {
    if let Some((cut, _)) = s.char_indices().nth(max_chars) {
        // Room for the ellipsis, on a character boundary.
        let keep = s[..cut]
            .char_indices()
            .nth(max_chars.saturating_sub(1))
            .map_or(cut, |(i, _)| i);
        s.truncate(keep);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn clips_on_character_boundaries() {
        assert_eq!(clip(String::new(), 3), "");
        assert_eq!(clip("abc".into(), 3), "abc");
        assert_eq!(clip("abcd".into(), 3), "ab…");
        assert_eq!(clip("ééééé".into(), 4), "ééé…");
        assert_eq!(clip("abcd".into(), 0), "…");
        assert_eq!(clip("x".repeat(1 << 20), 100).chars().count(), 100);
    }
}
