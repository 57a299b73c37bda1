//! Connector secrets at rest: AES-256-GCM under the key in
//! `JOURNEYS_SECRET_KEY`, with the connector's id as associated data so a
//! ciphertext copied onto another connector does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use uuid::Uuid;

const NONCE_LEN: usize = 12;

/// The key that seals connector secrets. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error("JOURNEYS_SECRET_KEY must be 32 bytes, base64-encoded (try `openssl rand -base64 32`)")]
    Malformed,
}

impl SecretBox {
    /// From the base64 text of a 32-byte key.
    pub fn from_base64(key: &str) -> Result<Self, SecretKeyError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| SecretKeyError::Malformed)?;
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| SecretKeyError::Malformed)?;
        Ok(SecretBox { cipher })
    }

    /// A random key, for a demo run whose data dies with it.
    pub fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        SecretBox {
            cipher: Aes256Gcm::new_from_slice(&key).expect("32 bytes"),
        }
    }

    pub fn seal(&self, connector: Uuid, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: connector.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), payload)
            .expect("AES-GCM encrypts any message under 64 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    /// `None` when the text was not sealed by this key for this connector.
    pub fn open(&self, connector: Uuid, sealed: &str) -> Option<Vec<u8>> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let payload = Payload {
            msg: ciphertext,
            aad: connector.as_bytes(),
        };
        self.cipher.decrypt(&Nonce::from(nonce), payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_for_their_connector_and_key() {
        let key = SecretBox::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = key.seal(a, b"{\"api_token\":\"t0ps3cret\"}");
        assert!(!sealed.contains("t0ps3cret"));
        assert_eq!(
            key.open(a, &sealed).as_deref(),
            Some(&b"{\"api_token\":\"t0ps3cret\"}"[..])
        );
        assert_eq!(key.open(b, &sealed), None);
        assert_eq!(SecretBox::ephemeral().open(a, &sealed), None);
        assert_ne!(key.seal(a, b"x"), key.seal(a, b"x"), "nonces are fresh");
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(SecretBox::from_base64("not base64!").is_err());
        assert!(SecretBox::from_base64(&STANDARD.encode([1u8; 16])).is_err());
        assert!(format!("{:?}", SecretBox::ephemeral()) == "SecretBox(..)");
    }
}
