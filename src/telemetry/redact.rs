//! `--redact-emails`: every log line leaves the process with the local part of each email
//! address replaced (`alice@acme.example` becomes `***@acme.example`), whichever crate logged
//! it. The domain stays: it is what tenancy and most debugging need.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// Replaces the local part of every email-like word in `text`.
pub fn redact_emails(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        // `@`, or `%40` as it appears in logged URLs (`?email=alice%40acme.example`).
        let at_len = if chars[i] == '@' {
            1
        } else if chars[i] == '%' && chars.get(i + 1) == Some(&'4') && chars.get(i + 2) == Some(&'0') {
            3
        } else {
            0
        };
        if at_len > 0 {
            // Walk back over the local part already copied to `out`.
            let local_len = out.chars().rev().take_while(|c| is_local(*c)).count();
            let rest = &chars[i + at_len..];
            let domain_len = rest.iter().take_while(|c| is_domain(**c)).count();
            let domain: String = rest[..domain_len].iter().collect();
            if local_len > 0 && domain.contains('.') && !domain.starts_with('.') {
                for _ in 0..local_len {
                    out.pop();
                }
                out.push_str("***");
            }
            out.extend(&chars[i..i + at_len]);
            i += at_len;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The local-part characters people use in practice; the rarer RFC 5322 ones (`/ = ? ...`) are
/// left out so that an address inside a URL or `key=value` is cut at the right place.
fn is_local(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._+-'".contains(c)
}

fn is_domain(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

/// A writer that redacts what passes through it before it reaches stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter { buffer: Vec::new() }
    }
}

/// Collects one formatted event and writes it redacted when dropped or flushed (the fmt layer
/// writes each event through one writer).
#[derive(Debug)]
pub struct RedactingWriter {
    buffer: Vec<u8>,
}

impl Write for RedactingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let redacted = redact_emails(&text);
        self.buffer.clear();
        io::stderr().write_all(redacted.as_bytes())
    }
}

impl Drop for RedactingWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_parts_are_hidden_domains_kept() {
        assert_eq!(
            redact_emails("created alice.archer+x@acme.example in Webex"),
            "created ***@acme.example in Webex"
        );
        assert_eq!(
            redact_emails(r#"{"email":"bob@b.example","n":1}"#),
            r#"{"email":"***@b.example","n":1}"#
        );
        assert_eq!(redact_emails("two: a@x.io, b@y.io"), "two: ***@x.io, ***@y.io");
        assert_eq!(
            redact_emails("GET /v1/people?email=alice%40acme.example"),
            "GET /v1/people?email=***%40acme.example"
        );
    }

    #[test]
    fn things_that_are_not_emails_stay() {
        for text in [
            "no at sign",
            "user@localhost",
            "@mention",
            "trailing@",
            "héllo wörld",
            "100%40 off",
        ] {
            assert_eq!(redact_emails(text), text);
        }
    }
}
