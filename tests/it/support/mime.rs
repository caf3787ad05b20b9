//! Just enough MIME to check what the SMTP sink received: headers (unfolded), multipart
//! children by boundary, and bodies decoded from quoted-printable or base64.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// One MIME entity: its headers and its still-encoded body.
#[derive(Debug, Clone)]
pub struct Part {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Part {
    pub fn parse(raw: &[u8]) -> Part {
        let split = find(raw, b"\r\n\r\n").expect("a blank line ends the headers");
        let head = String::from_utf8(raw[..split].to_vec()).expect("headers are ASCII");
        assert!(head.is_ascii(), "headers must be 7-bit: {head}");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            assert!(
                !line.contains('\r') && !line.contains('\n'),
                "bare CR/LF in {line:?}"
            );
            if line.starts_with(' ') || line.starts_with('\t') {
                let last = headers.last_mut().expect("a folded line follows a header");
                last.1.push_str(line);
            } else {
                let (name, value) = line.split_once(':').expect("header has a colon");
                headers.push((name.to_string(), value.trim_start().to_string()));
            }
        }
        Part {
            headers,
            body: raw[split + 4..].to_vec(),
        }
    }

    /// All values of a header, unfolded (folding whitespace collapsed to one space).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.all(name).into_iter().next()
    }

    /// The MIME type, lowercased, without parameters.
    pub fn mime_type(&self) -> String {
        self.header("Content-Type")
            .unwrap_or_else(|| "text/plain".into())
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }

    pub fn param(&self, header: &str, param: &str) -> Option<String> {
        let v = self.header(header)?;
        v.split(';').skip(1).find_map(|p| {
            let (k, val) = p.trim().split_once('=')?;
            k.eq_ignore_ascii_case(param)
                .then(|| val.trim().trim_matches('"').to_string())
        })
    }

    /// The children of a multipart entity, in order.
    pub fn children(&self) -> Vec<Part> {
        let boundary = self
            .param("Content-Type", "boundary")
            .expect("multipart has a boundary");
        let delim = format!("--{boundary}");
        let body = &self.body;
        let mut parts = Vec::new();
        let mut rest = &body[find(body, delim.as_bytes()).expect("first boundary")..];
        loop {
            rest = &rest[delim.len()..];
            if rest.starts_with(b"--") {
                break;
            }
            rest = rest
                .strip_prefix(b"\r\n")
                .expect("boundary line ends in CRLF");
            let end = find(rest, format!("\r\n{delim}").as_bytes()).expect("closing boundary");
            parts.push(Part::parse(&rest[..end]));
            rest = &rest[end + 2..];
        }
        parts
    }

    /// The body decoded per Content-Transfer-Encoding.
    pub fn decoded(&self) -> Vec<u8> {
        match self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "base64" => {
                let compact: Vec<u8> = self
                    .body
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                STANDARD.decode(compact).expect("valid base64")
            }
            "quoted-printable" => {
                quoted_printable::decode(&self.body, quoted_printable::ParseMode::Strict)
                    .expect("valid quoted-printable")
            }
            _ => self.body.clone(),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.decoded()).expect("UTF-8 text")
    }
}
