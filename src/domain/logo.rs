//! A brand logo as uploaded: PNG, JPEG or WebP, recognised by its bytes (never by its name or
//! the type the browser claims), within size and pixel limits. SVG is refused: it can carry
//! script.

use super::design::Logo;
use sha2::{Digest, Sha256};

/// The largest logo file accepted.
pub const MAX_BYTES: usize = 256 * 1024;
/// The largest and smallest width or height accepted, in pixels.
pub const MAX_PIXELS: usize = 2000;
pub const MIN_PIXELS: usize = 16;

/// Why a file is not accepted as a logo (said to the admin as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("Choose a file first.")]
    Empty,
    #[error("The file is larger than 256 KB; export a smaller one.")]
    TooLarge,
    #[error("SVG files are not accepted (they can carry scripts): use PNG, JPEG or WebP.")]
    Svg,
    #[error("This is not a PNG, JPEG or WebP image.")]
    NotAnImage,
    #[error("The image must be between 16 and 2000 pixels wide and high.")]
    Dimensions,
}

fn mime_of(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Checks an uploaded file; the logo's description (its SHA-256 names it) if it is one.
pub fn check(bytes: &[u8]) -> Result<Logo, LogoError> {
    if bytes.is_empty() {
        return Err(LogoError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(LogoError::TooLarge);
    }
    let Some(mime) = mime_of(bytes) else {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
        return Err(
            if head.contains("<svg") || head.trim_start().starts_with("<?xml") {
                LogoError::Svg
            } else {
                LogoError::NotAnImage
            },
        );
    };
    let size = imagesize::blob_size(bytes).map_err(|_| LogoError::NotAnImage)?;
    let ok = |n: usize| (MIN_PIXELS..=MAX_PIXELS).contains(&n);
    if !ok(size.width) || !ok(size.height) {
        return Err(LogoError::Dimensions);
    }
    let sha256 = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Logo {
        sha256,
        mime: mime.to_owned(),
        width: size.width as u32,
        height: size.height as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal PNG header of the given size (enough for the size reader).
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn images_are_recognised_by_their_bytes() {
        let logo = check(&png(200, 60)).unwrap();
        assert_eq!(
            (logo.mime.as_str(), logo.width, logo.height),
            ("image/png", 200, 60)
        );
        assert_eq!(logo.sha256.len(), 64);
        assert_eq!(check(&png(4000, 60)), Err(LogoError::Dimensions));
        assert_eq!(check(&png(8, 8)), Err(LogoError::Dimensions));
        assert_eq!(check(b""), Err(LogoError::Empty));
        assert_eq!(
            check(b"<?xml version=\"1.0\"?><svg onload=\"alert(1)\"/>"),
            Err(LogoError::Svg)
        );
        assert_eq!(
            check(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Err(LogoError::Svg)
        );
        assert_eq!(check(b"GIF89a......"), Err(LogoError::NotAnImage));
        assert_eq!(
            check(b"<html><script>alert(1)</script>"),
            Err(LogoError::NotAnImage)
        );
        let mut big = png(100, 100);
        big.resize(MAX_BYTES + 1, 0);
        assert_eq!(check(&big), Err(LogoError::TooLarge));
        // A PNG signature with garbage after it is not an image.
        assert_eq!(
            check(b"\x89PNG\r\n\x1a\ngarbage"),
            Err(LogoError::NotAnImage)
        );
    }
}
