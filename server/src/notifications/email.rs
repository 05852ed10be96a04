//! Notifications by email, over SMTP (lettre). `smtp://host:port` (STARTTLS when offered
//! with `?tls=required` to insist), `smtps://host:465` (TLS from the start); user and
//! password in the URL.

use catalog::notifications::DueDelivery;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
pub struct SmtpSettings {
    /// May hold a password.
    pub url: SecretString,
    pub from: Mailbox,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &crate::config::redact_url(self.url.expose_secret()))
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpSettings {
    /// Checks the two settings; the message names what is wrong.
    pub fn new(url: &str, from: &str) -> Result<SmtpSettings, String> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("not an smtp:// or smtps:// URL ({e})"))?;
        let from = from.parse::<Mailbox>().map_err(|e| {
            format!(
                "LOCKSTEP_SMTP_FROM is not an address such as Lockstep <lockstep@example.com> ({e})"
            )
        })?;
        Ok(SmtpSettings {
            url: SecretString::from(url.to_owned()),
            from,
        })
    }
}

pub async fn send(smtp: &SmtpSettings, delivery: &DueDelivery) -> Result<(), String> {
    let to = delivery
        .recipient
        .parse::<Mailbox>()
        .map_err(|e| format!("“{}” is not an email address ({e})", delivery.recipient))?;
    let (subject, text) = super::describe(&delivery.payload);
    let message = Message::builder()
        .from(smtp.from.clone())
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| format!("the message could not be built ({e})"))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp.url.expose_secret())
        .map_err(|e| format!("LOCKSTEP_SMTP_URL: {e}"))?
        .timeout(Some(std::time::Duration::from_secs(20)))
        .build();
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("the mail server refused it: {e}"))
}
