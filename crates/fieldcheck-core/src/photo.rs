//! Photo and signature names: the SHA-256 of the stored bytes, in lowercase hex, on both sides.

use sha2::{Digest, Sha256};

/// The name of a photo or signature: the SHA-256 of its bytes, 64 lowercase hex digits.
pub fn photo_name(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut name = String::with_capacity(64);
    for byte in digest {
        name.push(char::from(HEX[usize::from(byte >> 4)]));
        name.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    name
}

/// Whether `name` can name a photo: exactly 64 lowercase hex digits (so never a path).
pub fn is_photo_name(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}
