//! Record protection: the TLS 1.3 key schedule (HKDF-Expand-Label, RFC 8446 §7), the
//! TLS 1.2 PRF (RFC 5246 §5) and the AEAD ciphers, all through RustCrypto crates. Nothing
//! here writes a cipher by hand.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};

/// The AEAD ciphers tcpscope decrypts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cipher {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    /// Output bytes.
    pub fn size(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }
}

/// What a cipher suite means for decryption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    pub cipher: Cipher,
    pub hash: Hash,
    /// TLS 1.3 suite (nonce from the IV and sequence, inner content type).
    pub tls13: bool,
}

impl Suite {
    /// The suites tcpscope can decrypt, by IANA number.
    pub fn from_id(id: u16) -> Option<Suite> {
        use Cipher::*;
        use Hash::*;
        let s = |cipher, hash, tls13| {
            Some(Suite {
                cipher,
                hash,
                tls13,
            })
        };
        match id {
            0x1301 => s(Aes128Gcm, Sha256, true),
            0x1302 => s(Aes256Gcm, Sha384, true),
            0x1303 => s(Chacha20, Sha256, true),
            // ECDHE/DHE/RSA with AES-GCM (RFC 5288, 5289)
            0xc02b | 0xc02f | 0x009e | 0x009c => s(Aes128Gcm, Sha256, false),
            0xc02c | 0xc030 | 0x009f | 0x009d => s(Aes256Gcm, Sha384, false),
            // ChaCha20-Poly1305 (RFC 7905)
            0xcca8..=0xccaa => s(Chacha20, Sha256, false),
            _ => None,
        }
    }

    pub fn key_len(self) -> usize {
        match self.cipher {
            Cipher::Aes128Gcm => 16,
            _ => 32,
        }
    }

    /// Bytes of the write IV from the key block (TLS 1.2 GCM: the 4-byte salt).
    pub fn iv_len(self) -> usize {
        if !self.tls13 && self.cipher != Cipher::Chacha20 {
            4
        } else {
            12
        }
    }

    /// Explicit nonce bytes at the start of each record's fragment (TLS 1.2 GCM).
    pub fn explicit_nonce(self) -> usize {
        if !self.tls13 && self.cipher != Cipher::Chacha20 {
            8
        } else {
            0
        }
    }
}

fn hmac(hash: Hash, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    macro_rules! run {
        ($h:ty) => {{
            let Ok(mut m) = <Hmac<$h>>::new_from_slice(key) else {
                return Vec::new();
            };
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }};
    }
    match hash {
        Hash::Sha256 => run!(Sha256),
        Hash::Sha384 => run!(Sha384),
    }
}

/// HKDF-Expand (RFC 5869) with `prk` as the pseudorandom key.
fn hkdf_expand(hash: Hash, prk: &[u8], info: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; len];
    let ok = match hash {
        Hash::Sha256 => hkdf::Hkdf::<Sha256>::from_prk(prk)
            .ok()?
            .expand(info, &mut out)
            .is_ok(),
        Hash::Sha384 => hkdf::Hkdf::<Sha384>::from_prk(prk)
            .ok()?
            .expand(info, &mut out)
            .is_ok(),
    };
    ok.then_some(out)
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
pub fn expand_label(hash: Hash, secret: &[u8], label: &str, len: usize) -> Option<Vec<u8>> {
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    hkdf_expand(hash, secret, &info, len)
}

/// The TLS 1.2 PRF: P_hash(secret, label + seed) (RFC 5246 §5).
pub fn prf12(hash: Hash, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.size());
    let mut a = hmac(hash, secret, &[label, seed]);
    while out.len() < len && !a.is_empty() {
        out.extend_from_slice(&hmac(hash, secret, &[&a, label, seed]));
        a = hmac(hash, secret, &[&a]);
    }
    out.truncate(len);
    out
}

enum Aead {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
    Chacha(Box<ChaCha20Poly1305>),
}

/// One direction's record protection: cipher, IV, next sequence number, and (TLS 1.3)
/// the traffic secret for key updates.
pub struct Protection {
    suite: Suite,
    aead: Aead,
    iv: [u8; 12],
    pub seq: u64,
    secret: Vec<u8>,
}

impl std::fmt::Debug for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Protection {{ {:?}, seq {} }}", self.suite, self.seq)
    }
}

impl Protection {
    fn new(suite: Suite, key: &[u8], iv: &[u8], secret: Vec<u8>) -> Option<Protection> {
        let aead = match suite.cipher {
            Cipher::Aes128Gcm => Aead::Aes128(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            Cipher::Aes256Gcm => Aead::Aes256(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            Cipher::Chacha20 => Aead::Chacha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?)),
        };
        let mut ivb = [0u8; 12];
        ivb.get_mut(..iv.len())?.copy_from_slice(iv);
        Some(Protection {
            suite,
            aead,
            iv: ivb,
            seq: 0,
            secret,
        })
    }

    /// TLS 1.3 keys from a traffic secret (RFC 8446 §7.3).
    pub fn tls13(suite: Suite, secret: &[u8]) -> Option<Protection> {
        if secret.len() != suite.hash.size() {
            return None;
        }
        let key = expand_label(suite.hash, secret, "key", suite.key_len())?;
        let iv = expand_label(suite.hash, secret, "iv", 12)?;
        Protection::new(suite, &key, &iv, secret.to_vec())
    }

    /// The next generation after a KeyUpdate (RFC 8446 §7.2).
    pub fn key_update(&self) -> Option<Protection> {
        let h = self.suite.hash;
        let next = expand_label(h, &self.secret, "traffic upd", h.size())?;
        Protection::tls13(self.suite, &next)
    }

    /// TLS 1.2 client and server protection from the master secret (RFC 5246 §6.3).
    pub fn tls12(
        suite: Suite,
        master: &[u8],
        client_random: &[u8],
        server_random: &[u8],
    ) -> Option<(Protection, Protection)> {
        let (k, i) = (suite.key_len(), suite.iv_len());
        let seed = [server_random, client_random].concat();
        let kb = prf12(suite.hash, master, b"key expansion", &seed, 2 * (k + i));
        if kb.len() < 2 * (k + i) {
            return None;
        }
        let c = Protection::new(suite, &kb[..k], &kb[2 * k..2 * k + i], Vec::new())?;
        let s = Protection::new(suite, &kb[k..2 * k], &kb[2 * k + i..], Vec::new())?;
        Some((c, s))
    }

    /// Decrypt one record (`header` is its 5 bytes, `body` its fragment) at sequence
    /// number `seq`: the plaintext (TLS 1.3: still with its inner type and padding), or
    /// None when it does not authenticate.
    pub fn open_at(&self, seq: u64, header: &[u8; 5], body: &[u8]) -> Option<Vec<u8>> {
        let tag = 16;
        let explicit = self.suite.explicit_nonce();
        let mut nonce = self.iv;
        if explicit > 0 {
            nonce[4..].copy_from_slice(body.get(..explicit)?);
        } else {
            for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
                *n ^= s;
            }
        }
        let ct = body.get(explicit..)?;
        let plain_len = ct.len().checked_sub(tag)?;
        let aad: Vec<u8> = if self.suite.tls13 {
            header.to_vec()
        } else {
            let mut a = seq.to_be_bytes().to_vec();
            a.extend_from_slice(&header[..3]);
            a.extend_from_slice(&(plain_len as u16).to_be_bytes());
            a
        };
        let mut buf = ct.to_vec();
        let n = aes_gcm::aead::array::Array::from(nonce);
        let ok = match &self.aead {
            Aead::Aes128(c) => c.decrypt_in_place(&n, &aad, &mut buf).is_ok(),
            Aead::Aes256(c) => c.decrypt_in_place(&n, &aad, &mut buf).is_ok(),
            Aead::Chacha(c) => c.decrypt_in_place(&n, &aad, &mut buf).is_ok(),
        };
        ok.then_some(buf)
    }
}

/// TLS 1.3 inner plaintext: strip the zero padding; the content type and the content.
pub fn inner_plaintext(mut p: Vec<u8>) -> Option<(u8, Vec<u8>)> {
    while p.last() == Some(&0) {
        p.pop();
    }
    let t = p.pop()?;
    Some((t, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8448 §3 (simple 1-RTT handshake): server handshake key and IV.
    #[test]
    fn rfc8448_server_handshake_keys() {
        let secret = hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
        let h = Hash::Sha256;
        assert_eq!(
            expand_label(h, &secret, "key", 16).unwrap(),
            hex("3fce516009c21727d0f2e4e86ee403bc")
        );
        assert_eq!(
            expand_label(h, &secret, "iv", 12).unwrap(),
            hex("5d313eb2671276ee13000b30")
        );
    }

    /// A known TLS 1.2 PRF vector (SHA-256), as published for the IETF TLS WG.
    #[test]
    fn prf12_sha256_vector() {
        let out = prf12(
            Hash::Sha256,
            &hex("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &hex("a0ba9f936cda311827a6f796ffd5198c"),
            100,
        );
        assert_eq!(out[..16].to_vec(), hex("e3f229ba727be17b8d122620557cd453"));
        assert_eq!(out.len(), 100);
    }

    #[test]
    fn inner_plaintext_strips_padding() {
        assert_eq!(
            inner_plaintext(b"GET\x17\0\0".to_vec()),
            Some((0x17, b"GET".to_vec()))
        );
        assert_eq!(inner_plaintext(vec![0, 0]), None);
    }
}
