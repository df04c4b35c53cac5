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

/// `s` as one path segment of a URL: letters, digits and `-._~` as they are, every other
/// byte as `%XX`, so an id with `/`, `?` or spaces stays one segment.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The text of a path segment made by [`encode_segment`] (or any percent-encoding); `None`
/// when an escape is malformed or the bytes are not UTF-8.
pub fn decode_segment(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_segment_round_trips_whatever_it_holds() {
        for id in ["sub_1003", "a/b?c d", "ünï", "%41", ""] {
            let encoded = super::encode_segment(id);
            assert!(!encoded.contains(['/', '?', ' ']), "{encoded}");
            assert_eq!(super::decode_segment(&encoded).as_deref(), Some(id));
        }
        assert_eq!(
            super::decode_segment("sub_1003").as_deref(),
            Some("sub_1003")
        );
        assert_eq!(super::decode_segment("%4"), None);
        assert_eq!(super::decode_segment("%zz"), None);
        assert_eq!(super::decode_segment("%FF"), None, "not UTF-8");
    }

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
