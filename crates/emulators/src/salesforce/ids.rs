//! Record ids: 3-character key prefix, a zero-padded counter, and the 3-character
//! case-safe suffix of 18-character ids.

const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The 18-character id for a key prefix and counter, e.g. `001000000000001AAA`.
/// Zero-padded, so ids of one object sort in creation order.
pub fn make(prefix: &str, counter: u64) -> String {
    to_18(&format!("{prefix}{counter:012}"))
}

/// Appends the case-safe suffix to a 15-character id: one character per 5-character chunk,
/// whose bits mark the chunk's upper-case letters.
pub fn to_18(id15: &str) -> String {
    let mut id = id15.to_string();
    for chunk in id15.as_bytes().chunks(5) {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | (1 << i));
        id.push(SUFFIX_ALPHABET[bits] as char);
    }
    id
}

/// The 18-character form of a 15- or 18-character id; `None` when it is not id-shaped.
pub fn normalize(id: &str) -> Option<String> {
    if !id.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    match id.len() {
        15 => Some(to_18(id)),
        18 => Some(id.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_only_ids_end_in_aaa_and_sort_in_creation_order() {
        assert_eq!(super::make("001", 1), "001000000000001AAA");
        assert!(super::make("001", 9) < super::make("001", 10));
        assert_eq!(
            super::normalize("001000000000001").as_deref(),
            Some("001000000000001AAA")
        );
        assert_eq!(super::to_18("00D000000000001"), "00D000000000001EAA");
        assert_eq!(super::normalize("not an id"), None);
    }
}
