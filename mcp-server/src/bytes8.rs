//! Eight bytes tested at once (SWAR: SIMD within a register), for the loops that copy text and
//! look for the few bytes that need a closer look (JSON escapes, whitespace to collapse).
//!
//! Each function gives a mask with the high bit of every byte of `word` that matches, and no
//! other bit: the low seven bits of each byte are added to a constant that cannot carry into
//! the next byte, so the answer is exact per byte (tests compare every byte value at every
//! place with the plain definition).

/// The high bit of every byte.
const HIGH: u64 = splat(0x80);
/// The low seven bits of every byte.
const LOW: u64 = splat(0x7F);

/// Eight copies of a byte.
const fn splat(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// Eight bytes read as one word, the first byte lowest.
pub fn word(bytes: [u8; 8]) -> u64 {
    u64::from_le_bytes(bytes)
}

/// The bytes below `limit` (at most 0x80).
pub fn below(word: u64, limit: u8) -> u64 {
    debug_assert!(limit <= 0x80);
    // The low seven bits reach the high bit from `limit` up; a byte from 0x80 up is not below.
    !(((word & LOW) + splat(0x80 - limit)) | word) & HIGH
}

/// The bytes equal to `byte`.
pub fn equal(word: u64, byte: u8) -> u64 {
    let differs = word ^ splat(byte);
    // Zero bytes are the only ones whose bits all stay clear.
    !(((differs & LOW) + LOW) | differs) & HIGH
}

/// The bytes from 0x80 up (beyond ASCII).
pub fn beyond_ascii(word: u64) -> u64 {
    word & HIGH
}

/// The mark of the first byte (lowest) and of the last.
pub const FIRST: u64 = 0x80;
pub const LAST: u64 = 0x80 << 56;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value at every place, among bytes that match nothing, against the plain
    /// definition.
    #[test]
    fn masks_mark_exactly_the_matching_bytes() {
        for value in 0..=255u8 {
            for filler in [b'a', 0x00, 0x7F, 0x80, 0xFF, b' '] {
                for at in 0..8 {
                    let mut bytes = [filler; 8];
                    bytes[at] = value;
                    let w = word(bytes);
                    let marks = |test: &dyn Fn(u8) -> bool| {
                        bytes
                            .iter()
                            .enumerate()
                            .filter(|&(_, &b)| test(b))
                            .fold(0u64, |mask, (i, _)| mask | 0x80 << (8 * i))
                    };
                    for limit in [0x20, 0x21, 0x80] {
                        assert_eq!(
                            below(w, limit),
                            marks(&|b| b < limit),
                            "{bytes:?} < {limit}"
                        );
                    }
                    for byte in [b' ', b'"', b'\\', 0x00, 0xFF] {
                        assert_eq!(equal(w, byte), marks(&|b| b == byte), "{bytes:?} = {byte}");
                    }
                    assert_eq!(beyond_ascii(w), marks(&|b| b >= 0x80));
                }
            }
        }
    }
}
