//! Secrets at rest (connection passwords): AES-256-GCM with a key from configuration.
//!
//! A sealed secret is `version (1 byte) ‖ nonce (12 bytes) ‖ ciphertext+tag`. The caller's
//! context (the connection's id) is authenticated as associated data, so a sealed password
//! copied onto another connection's row does not open. The key is 32 bytes, given as 64 hex
//! characters, or kept in a key file that is created (mode 0600) on first start.

use std::fmt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::RngCore;
use secrecy::SecretString;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the secret key must be 64 hexadecimal characters (32 bytes); generate one with `openssl rand -hex 32`"
    )]
    BadKey,
    #[error("the key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    /// Wrong key, or the stored secret was altered or belongs to another record.
    #[error("a stored secret cannot be decrypted with the configured key")]
    Undecryptable,
}

pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

impl SecretBox {
    pub fn new(key: [u8; 32]) -> Self {
        SecretBox {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
        }
    }

    /// A key written as 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let bytes = hex::decode(text.trim()).map_err(|_| SecretError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self::new(key))
    }

    /// A fresh random key, in hex.
    pub fn generate_hex() -> String {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        hex::encode(key)
    }

    /// Reads the key file, creating it with a new random key (readable by its owner only)
    /// when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        let failed = |reason: String| SecretError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text).map_err(|e| failed(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
                }
                let key = Self::generate_hex();
                write_private(path, &key).map_err(|e| failed(e.to_string()))?;
                tracing::warn!(path = %path.display(), "created a new secret key file; back it up: without it, stored connection passwords cannot be read");
                Self::from_hex(&key)
            }
            Err(e) => Err(failed(e.to_string())),
        }
    }

    pub fn seal(&self, plaintext: &str, context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context,
                },
            )
            .expect("AES-GCM encryption of a bounded message cannot fail");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<SecretString, SecretError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| SecretError::Undecryptable)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::{SecretBox, SecretError};

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let keys = SecretBox::new([7; 32]);
        let sealed = keys.seal("hunter2", b"connection-1");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            keys.open(&sealed, b"connection-1").unwrap().expose_secret(),
            "hunter2"
        );
        assert!(matches!(
            keys.open(&sealed, b"connection-2"),
            Err(SecretError::Undecryptable)
        ));
        assert!(matches!(
            SecretBox::new([8; 32]).open(&sealed, b"connection-1"),
            Err(SecretError::Undecryptable)
        ));
        // Two seals of the same text differ (fresh nonce).
        assert_ne!(sealed, keys.seal("hunter2", b"connection-1"));
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("lockstep-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("secret.key");
        let first = SecretBox::load_or_create(&path).unwrap();
        let sealed = first.seal("pw", b"x");
        let again = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(again.open(&sealed, b"x").unwrap().expose_secret(), "pw");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not hex").unwrap();
        let message = SecretBox::load_or_create(&path).unwrap_err().to_string();
        assert!(message.contains("64 hexadecimal characters"), "{message}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
