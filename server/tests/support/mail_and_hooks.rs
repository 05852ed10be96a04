//! Real receivers for notifications, in the test process: an SMTP server that keeps every
//! message it accepts, and an HTTP endpoint that keeps every webhook request (and answers
//! with the statuses it is told to).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One message the SMTP server accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent after DATA (headers and body).
    pub data: String,
}

pub struct SmtpServer {
    /// `smtp://127.0.0.1:<port>` (no TLS).
    pub url: String,
    pub received: Arc<Mutex<Vec<Mail>>>,
}

/// Starts an SMTP server speaking the part of RFC 5321 a client needs to send mail.
pub async fn smtp_server() -> SmtpServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let keep = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test.local ESMTP ready\r\n").await;
                let (mut from, mut to) = (String::new(), Vec::new());
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let answer: &[u8] = if upper.starts_with("EHLO") {
                        b"250-test.local\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("HELO")
                        || upper.starts_with("RSET")
                        || upper.starts_with("NOOP")
                    {
                        b"250 OK\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        from = line[10..].trim().trim_matches(['<', '>']).to_owned();
                        to.clear();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(line)) = lines.next_line().await {
                            if line == "." {
                                break;
                            }
                            data.push_str(line.strip_prefix('.').unwrap_or(&line));
                            data.push('\n');
                        }
                        keep.lock().unwrap().push(Mail {
                            from: from.clone(),
                            to: to.clone(),
                            data,
                        });
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"502 not implemented\r\n"
                    };
                    if write.write_all(answer).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    SmtpServer { url, received }
}

/// One request a webhook receiver got.
#[derive(Debug, Clone)]
pub struct Hook {
    pub event: String,
    pub delivery: String,
    pub signature: String,
    pub body: Vec<u8>,
}

pub struct HookReceiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Hook>>>,
    /// Statuses to answer with, in order; 200 once empty.
    pub answers: Arc<Mutex<VecDeque<u16>>>,
}

pub async fn hook_receiver() -> HookReceiver {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    let received: Arc<Mutex<Vec<Hook>>> = Arc::default();
    let answers: Arc<Mutex<VecDeque<u16>>> = Arc::default();
    let (keep, next) = (received.clone(), answers.clone());
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (keep, next) = (keep.clone(), next.clone());
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                keep.lock().unwrap().push(Hook {
                    event: header("lockstep-event"),
                    delivery: header("lockstep-delivery"),
                    signature: header("lockstep-signature"),
                    body: body.to_vec(),
                });
                let status = next.lock().unwrap().pop_front().unwrap_or(200);
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    HookReceiver {
        url,
        received,
        answers,
    }
}

/// Checks a `Lockstep-Signature` the way a receiver should: the HMAC-SHA256 of
/// "<t>.<body>" with the secret, compared in constant time.
pub fn signature_is_valid(secret: &str, header: &str, body: &[u8]) -> bool {
    use hmac::{Hmac, Mac};
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_owned()),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&v1).is_ok()
}
