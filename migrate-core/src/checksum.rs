//! Checksums of migration scripts, for drift detection.
//!
//! The checksum is SHA-256 of the script with its byte-order mark removed and every CRLF
//! turned into LF, so a checkout with Windows line endings, or an editor that adds a BOM,
//! does not look like an edited migration.

use std::fmt;

/// A SHA-256 checksum of a normalised script.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checksum(pub [u8; 32]);

impl Checksum {
    /// The checksum of a script, after normalisation (BOM removed, CRLF as LF).
    ///
    /// # Example
    /// ```
    /// use migrate_core::checksum::Checksum;
    /// assert_eq!(Checksum::of("SELECT 1;\r\n"), Checksum::of("\u{feff}SELECT 1;\n"));
    /// ```
    pub fn of(script: &str) -> Checksum {
        let text = script.strip_prefix('\u{feff}').unwrap_or(script);
        let mut hasher = Sha256::new();
        let mut rest = text.as_bytes();
        while let Some(cr) = rest.windows(2).position(|w| w == b"\r\n") {
            hasher.update(&rest[..cr]);
            rest = &rest[cr + 1..];
        }
        hasher.update(rest);
        Checksum(hasher.finish())
    }

    /// The lineage of a migration: the checksum of the previous migration's lineage (all
    /// zeros before the first) followed by this migration's up checksum. Equal lineages at
    /// version N mean the same N up scripts, so one comparison detects an edit to any of them.
    pub fn lineage(previous: Checksum, up: Checksum) -> Checksum {
        let mut hasher = Sha256::new();
        hasher.update(&previous.0);
        hasher.update(&up.0);
        Checksum(hasher.finish())
    }

    /// The checksum as 64 lowercase hexadecimal digits.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }

    /// Parses 64 hexadecimal digits, as written by [`Checksum::to_hex`].
    pub fn from_hex(hex: &str) -> Option<Checksum> {
        fn nibble(digit: u8) -> Option<u8> {
            match digit {
                b'0'..=b'9' => Some(digit - b'0'),
                b'a'..=b'f' => Some(digit - b'a' + 10),
                b'A'..=b'F' => Some(digit - b'A' + 10),
                _ => None,
            }
        }
        // Digit by digit rather than `u8::from_str_radix` on each pair (which also takes a
        // sign): this runs at every start, on the lineage the idle read returns.
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(Checksum(out))
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({})", self.to_hex())
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A streaming SHA-256 (FIPS 180-4), kept here so the core crate needs nothing but std.
struct Sha256 {
    state: [u32; 8],
    buffer: [u8; 64],
    buffered: usize,
    length: u64,
}

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

impl Sha256 {
    fn new() -> Sha256 {
        Sha256 {
            state: [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            buffer: [0; 64],
            buffered: 0,
            length: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.length += data.len() as u64;
        while !data.is_empty() {
            let take = (64 - self.buffered).min(data.len());
            self.buffer[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered == 64 {
                let block = self.buffer;
                self.compress(&block);
                self.buffered = 0;
            }
        }
    }

    fn finish(mut self) -> [u8; 32] {
        let bits = self.length.wrapping_mul(8);
        self.update(&[0x80]);
        while self.buffered != 56 {
            self.update(&[0]);
        }
        self.update(&bits.to_be_bytes());
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    fn compress(&mut self, block: &[u8; 64]) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = self.state;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, value) in self.state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *state = state.wrapping_add(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_sha256_test_vectors() {
        assert_eq!(
            Checksum::of("").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            Checksum::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Checksum::of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").to_hex(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let million_a = "a".repeat(1_000_000);
        assert_eq!(
            Checksum::of(&million_a).to_hex(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    /// Every expected digest below was computed outside this crate, with Python's
    /// `hashlib.sha256` on the bytes named in the comment (the normalised text where the
    /// checksum normalises), so no test compares `Checksum::of` with itself.
    fn hex(script: &str) -> String {
        Checksum::of(script).to_hex()
    }

    /// sha256(b"CREATE TABLE t (x);\nSELECT 1;\n")
    const LF_SCRIPT: &str = "8beadd63a949efaae1c775d6d375003720444eb39d42d34893129eace99eeda8";

    #[test]
    fn matches_sha256_at_every_padding_boundary() {
        // sha256(b"x" * n): one block with and without room for the length, exactly one
        // block, one byte into the second, and the same around the second block's end.
        let vectors = [
            (
                55,
                "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072",
            ),
            (
                56,
                "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e",
            ),
            (
                63,
                "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2",
            ),
            (
                64,
                "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c",
            ),
            (
                65,
                "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9",
            ),
            (
                119,
                "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c",
            ),
            (
                120,
                "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98",
            ),
        ];
        for (length, digest) in vectors {
            assert_eq!(hex(&"x".repeat(length)), digest, "{length} bytes");
        }
    }

    #[test]
    fn ignores_bom_and_crlf() {
        assert_eq!(hex("CREATE TABLE t (x);\nSELECT 1;\n"), LF_SCRIPT);
        assert_eq!(hex("CREATE TABLE t (x);\r\nSELECT 1;\r\n"), LF_SCRIPT);
        assert_eq!(hex("\u{feff}CREATE TABLE t (x);\r\nSELECT 1;\n"), LF_SCRIPT);
    }

    #[test]
    fn sees_real_edits() {
        // sha256(b"SELECT 1;") and sha256(b"SELECT 2;")
        assert_eq!(
            hex("SELECT 1;"),
            "17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a"
        );
        assert_ne!(hex("SELECT 2;"), hex("SELECT 1;"));
        // A lone CR is content: sha256(b"a\rb"), not sha256(b"a\nb").
        assert_eq!(
            hex("a\rb"),
            "af9081672dd5ef3247a30c2db5b0dafcc9bcf981a26aefb3c55d210d43fcc14e"
        );
        assert_eq!(
            hex("a\nb"),
            "7e18f737311b2dc3b2f269dd78396b0351f14fb66efa879f768cb23181883c78"
        );
        // Only the CR right before an LF goes: sha256(b"x\r\ny") for "x\r\r\ny".
        assert_eq!(
            hex("x\r\r\ny"),
            "b81d54de3d39c210c9579f8b7f4c0cf68d4394a068c150ae6d2556371675b32d"
        );
        // Only one leading BOM goes: sha256("\u{feff}SELECT 1;".encode()).
        assert_eq!(
            hex("\u{feff}\u{feff}SELECT 1;"),
            "a35432496aa3b58f1818bc547ae78c87d1a5e702dcc7f28e2e1fdb38ff3bbf52"
        );
    }

    #[test]
    fn lineage_depends_on_every_earlier_script() {
        let (a, b, c) = (Checksum::of("a"), Checksum::of("b"), Checksum::of("c"));
        let zero = Checksum([0; 32]);
        // sha256(bytes(32) + sha256(b"a").digest())
        let first = Checksum::lineage(zero, a);
        assert_eq!(
            first.to_hex(),
            "8c374a53782642f7514d087d26a3e733f1b806009a03e04a43b288ef2fa9f9c0"
        );
        // sha256(that digest + sha256(b"b").digest())
        assert_eq!(
            Checksum::lineage(first, b).to_hex(),
            "153d5381929b50792d3b22ae9596544af3b0e4805be1555a595e6d2a2734933f"
        );
        let chain = |first: Checksum| Checksum::lineage(Checksum::lineage(zero, first), b);
        assert_ne!(chain(a), chain(c));
        assert_ne!(Checksum::lineage(zero, a), Checksum::lineage(zero, b));
    }

    #[test]
    fn hex_round_trips() {
        let sum = Checksum::of("SELECT 1;");
        let digits = "17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a";
        assert_eq!(sum.to_hex(), digits);
        assert_eq!(Checksum::from_hex(digits), Some(sum));
        assert_eq!(Checksum::from_hex(&digits.to_uppercase()), Some(sum));
        assert_eq!(format!("{sum}"), digits);
        assert_eq!(Checksum::from_hex("zz"), None);
        assert_eq!(Checksum::from_hex(&format!("+{}", &digits[1..])), None);
        assert_eq!(Checksum::from_hex(&digits[..62]), None);
    }
}
