//! Multipart bodies, both ways: reading the files a staff member's browser sent
//! (`<input type=file multiple>`), and writing one upload for the API's media endpoints,
//! which take one file per request.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use bytes::{BufMut, Bytes, BytesMut};

/// One file as the browser sent it.
pub struct File {
    /// The name on the member's computer, for messages about it ("photo.heic: …").
    pub name: String,
    pub bytes: Bytes,
}

/// What a form posted: its files (those chosen; an empty file input sends a part with
/// no name and no bytes, which is left out) and its text fields.
#[derive(Default)]
pub struct Posted {
    pub files: Vec<File>,
    pub fields: Vec<(String, String)>,
}

impl Posted {
    pub fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Reads a posted form: parts named `file_field` are files, any other part text.
pub async fn read(mut form: Multipart, file_field: &str) -> Result<Posted, MultipartError> {
    let mut posted = Posted::default();
    while let Some(part) = form.next_field().await? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == file_field {
            let file_name = part.file_name().unwrap_or_default().to_owned();
            let bytes = part.bytes().await?;
            if !(file_name.is_empty() && bytes.is_empty()) {
                posted.files.push(File {
                    name: file_name,
                    bytes,
                });
            }
        } else {
            let text = part.text().await?;
            posted.fields.push((name, text));
        }
    }
    Ok(posted)
}

/// A `multipart/form-data` body being written.
pub struct Body {
    boundary: String,
    out: BytesMut,
}

impl Body {
    pub fn new() -> Self {
        Self {
            boundary: format!("mercato-{}", uuid::Uuid::new_v4().simple()),
            out: BytesMut::new(),
        }
    }

    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.head(name, None);
        self.out.put_slice(value.as_bytes());
        self.out.put_slice(b"\r\n");
        self
    }

    /// A file part; the API recognises the format by content, so it is sent as bytes.
    pub fn file(mut self, name: &str, file_name: &str, bytes: &[u8]) -> Self {
        self.head(name, Some(file_name));
        self.out.put_slice(bytes);
        self.out.put_slice(b"\r\n");
        self
    }

    /// The content type (with its boundary) and the finished body.
    pub fn finish(mut self) -> (String, Bytes) {
        self.out
            .put_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (
            format!("multipart/form-data; boundary={}", self.boundary),
            self.out.freeze(),
        )
    }

    fn head(&mut self, name: &str, file_name: Option<&str>) {
        let mut head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"",
            self.boundary,
            quoted(name)
        );
        if let Some(file_name) = file_name {
            head.push_str(&format!("; filename=\"{}\"", quoted(file_name)));
            head.push_str("\r\nContent-Type: application/octet-stream");
        }
        head.push_str("\r\n\r\n");
        self.out.put_slice(head.as_bytes());
    }
}

/// A name inside a quoted header parameter: quotes, backslashes and line breaks (which
/// would end the header) percent-encoded, as browsers do.
fn quoted(name: &str) -> String {
    name.replace('%', "%25")
        .replace('"', "%22")
        .replace('\\', "%5C")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_frames_each_part_and_ends_with_the_closing_boundary() {
        let (content_type, body) = Body::new()
            .text("alt", "A teapot")
            .file("file", "tea\"pot\r\n.png", b"\x89PNG")
            .finish();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .expect("a boundary");
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"alt\"\r\n\r\nA teapot\r\n"));
        assert!(text.contains("filename=\"tea%22pot%0D%0A.png\""));
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
        assert_eq!(text.matches(&format!("--{boundary}\r\n")).count(), 2);
    }
}
