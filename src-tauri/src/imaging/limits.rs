//! What import refuses, checked from sizes and headers before anything is decoded: a
//! decompression bomb declares a huge page in a tiny file, and must cost nothing.

use super::{bad, ImagingError};

/// Largest scan file accepted: a 200-page 300-dpi copier PDF is well under it.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
/// Largest page accepted (width × height). 100 Mpx is A3 at 600 dpi with room to spare, and
/// decodes to at most 300 MB of RGB.
pub const MAX_PIXELS: u64 = 100_000_000;
/// Longest side accepted, so a 1 × 90 000 000 strip is refused too.
pub const MAX_SIDE: u32 = 30_000;
/// Most pages one file may bring (a whole class scanned as one PDF is a few hundred).
pub const MAX_PAGES: usize = 2_000;
/// Most pixels one file may bring, all pages together: 400 A4 pages at 300 dpi, or 1,200
/// rendered at 200 dpi. Without it, 2,000 pages of 100 Mpx each — every one allowed on its
/// own — would be 200 gigapixels of decoding and disk from one small file.
pub const MAX_TOTAL_PIXELS: u64 = 4_000_000_000;
/// Most bytes a PDF page's drawing instructions (its content streams) may unpack to. A
/// scanner page's are a few dozen bytes, a dense vector drawing's a few megabytes; a
/// compressed stream of zeros a few megabytes long would otherwise unpack to gigabytes.
pub const MAX_CONTENT_BYTES: usize = 64 * 1024 * 1024;

/// The pixels a file's pages have declared so far, against [`MAX_TOTAL_PIXELS`].
#[derive(Debug, Default)]
pub struct PixelBudget {
    spent: u64,
}

impl PixelBudget {
    /// Counts one more page of `width × height`; refuses the file once its pages together
    /// go over the budget.
    pub fn spend(&mut self, name: &str, width: u64, height: u64) -> Result<(), ImagingError> {
        self.spent = self.spent.saturating_add(width.saturating_mul(height));
        if self.spent > MAX_TOTAL_PIXELS {
            return Err(bad(
                name,
                format!(
                    "its pages together are more than the {} gigapixels GradeDesk imports from one file; split it into smaller files",
                    MAX_TOTAL_PIXELS / 1_000_000_000
                ),
            ));
        }
        Ok(())
    }
}

/// Refuses an empty or oversized file before it is read further.
pub fn check_file_size(name: &str, len: u64) -> Result<(), ImagingError> {
    if len == 0 {
        return Err(bad(name, "the file is empty"));
    }
    if len > MAX_FILE_BYTES {
        return Err(bad(
            name,
            format!(
                "the file is {} MB, more than the {} MB GradeDesk accepts; split it into smaller files",
                len / 1024 / 1024,
                MAX_FILE_BYTES / 1024 / 1024
            ),
        ));
    }
    Ok(())
}

/// Refuses a page whose declared size is empty or too large to decode safely.
pub fn check_dimensions(name: &str, width: u32, height: u32) -> Result<(), ImagingError> {
    if width == 0 || height == 0 {
        return Err(bad(name, "the image has no pixels"));
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS || width.max(height) > MAX_SIDE {
        return Err(bad(
            name,
            format!(
                "the image is {width}×{height} pixels, more than the {} megapixels GradeDesk accepts (a decompression bomb, or a scan at a needlessly high resolution)",
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}

/// The decoder limits matching [`MAX_PIXELS`], a second line of defence behind the header
/// check (an image can lie about its size in ways only the decoder sees).
pub fn decoder_limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // 16-bit RGBA is 8 bytes a pixel.
    limits.max_alloc = Some(MAX_PIXELS * 8);
    limits
}
