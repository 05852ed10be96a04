//! PostgreSQL's COPY text format: fields separated by tabs, rows by newlines, `\N` for NULL,
//! and backslash escapes for the characters that would otherwise end a field or a row.

use std::ops::DerefMut;

use sqlx::PgConnection;
use sqlx::postgres::PgCopyIn;

/// Rows sent to a `COPY … FROM STDIN` in chunks of about 60 KiB as they are added.
pub struct CopyWriter<C: DerefMut<Target = PgConnection>> {
    copy: PgCopyIn<C>,
    buffer: String,
}

impl<C: DerefMut<Target = PgConnection>> CopyWriter<C> {
    const CHUNK: usize = 60 * 1024;

    pub fn new(copy: PgCopyIn<C>) -> Self {
        CopyWriter {
            copy,
            buffer: String::with_capacity(Self::CHUNK + 4 * 1024),
        }
    }

    /// Adds one row (`None`: NULL).
    pub async fn row<S: AsRef<str>>(
        &mut self,
        fields: impl IntoIterator<Item = Option<S>>,
    ) -> Result<(), sqlx::Error> {
        for (i, value) in fields.into_iter().enumerate() {
            self.field(i == 0, value.as_ref().map(AsRef::as_ref));
        }
        self.end_row().await
    }

    /// Adds one field of the row being written (`first`: the row's first field), for a
    /// caller that makes each field's text in a buffer of its own reused for every field.
    pub fn field(&mut self, first: bool, value: Option<&str>) {
        if !first {
            self.buffer.push('\t');
        }
        field(&mut self.buffer, value);
    }

    /// Ends the row whose fields were added with `field`.
    pub async fn end_row(&mut self) -> Result<(), sqlx::Error> {
        self.buffer.push('\n');
        if self.buffer.len() >= Self::CHUNK {
            self.copy.send(self.buffer.as_bytes()).await?;
            self.buffer.clear();
        }
        Ok(())
    }

    /// Sends what is left and ends the COPY: the number of rows copied.
    pub async fn finish(mut self) -> Result<u64, sqlx::Error> {
        if !self.buffer.is_empty() {
            self.copy.send(self.buffer.as_bytes()).await?;
        }
        self.copy.finish().await
    }
}

/// Appends one field.
pub fn field(out: &mut String, value: Option<&str>) {
    let Some(value) = value else {
        out.push_str("\\N");
        return;
    };
    // Runs without a special character are copied whole; the four special characters are
    // ASCII, so a byte position is always a character boundary here.
    let mut rest = value;
    while let Some(at) = rest
        .bytes()
        .position(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'\\' => "\\\\",
            b'\t' => "\\t",
            b'\n' => "\\n",
            _ => "\\r",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::field;

    fn encoded(value: Option<&str>) -> String {
        let mut out = String::new();
        field(&mut out, value);
        out
    }

    #[test]
    fn null_and_plain_text() {
        assert_eq!(encoded(None), "\\N");
        assert_eq!(encoded(Some("Zoë")), "Zoë");
        // The text "\N" is not NULL: its backslash is escaped.
        assert_eq!(encoded(Some("\\N")), "\\\\N");
    }

    #[test]
    fn separators_are_escaped() {
        assert_eq!(encoded(Some("a\tb\nc\rd")), "a\\tb\\nc\\rd");
        assert_eq!(encoded(Some("\\x00ff")), "\\\\x00ff");
        // Between and around characters of several bytes.
        assert_eq!(encoded(Some("Zoë\tñ\\€\n")), "Zoë\\tñ\\\\€\\n");
    }
}
