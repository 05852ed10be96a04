//! Password hashing with argon2id (the crate's defaults follow OWASP's recommendation).

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use super::CatalogError;

/// Shorter passwords are refused at sign-up.
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longer ones are refused too: hashing megabytes is a cheap denial of service.
const MAX_PASSWORD_LEN: usize = 1024;

/// Password hashes computed at once in this process. Each takes ~19 MiB and a core for tens of
/// milliseconds; more callers wait for a turn instead of exhausting the machine.
pub const MAX_CONCURRENT_HASHES: usize = 2;

static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_CONCURRENT_HASHES);

/// Runs argon2 work off the async worker threads, at most [`MAX_CONCURRENT_HASHES`] at once;
/// callers beyond that wait (they are never refused).
pub(crate) async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CatalogError> {
    let _turn = HASHING
        .acquire()
        .await
        .map_err(|e| CatalogError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CatalogError::Hashing(e.to_string()))
}

/// Checks the password rules and returns a PHC-format argon2id hash.
pub fn hash_password(password: &str) -> Result<String, CatalogError> {
    check_password_rules(password)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| CatalogError::Hashing(e.to_string()))
}

/// The rules a new password must meet, checked before any hashing work is spent on it.
pub fn check_password_rules(password: &str) -> Result<(), CatalogError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(CatalogError::validation(
            "password",
            format!("Use at least {MIN_PASSWORD_LEN} characters (you typed {chars})."),
        ));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(CatalogError::validation(
            "password",
            format!("Use at most {MAX_PASSWORD_LEN} characters."),
        ));
    }
    Ok(())
}

/// True when `password` matches `hash`. A malformed stored hash counts as a mismatch.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password, verified against when the email is unknown so that a
/// failed sign-in takes the same time whether or not the account exists.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(uuid::Uuid::new_v4().to_string().as_bytes(), &salt)
            .expect("hashing a fixed-size password cannot fail")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_password() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
    }

    #[test]
    fn short_password_is_refused_with_the_rule() {
        let err = hash_password("short").unwrap_err().to_string();
        assert!(err.contains("at least 10"), "{err}");
    }
}
