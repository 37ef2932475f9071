//! Recognising a scan by its bytes (never by its name) and decoding raster pages: JPEG, PNG,
//! WebP and multi-page TIFF, upright (EXIF/TIFF orientation applied), normalised to 8-bit
//! grey or RGB with any transparency flattened on white paper.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{
    DynamicImage, GrayImage, ImageBuffer, ImageDecoder, ImageFormat, ImageReader, Luma, Rgb,
    RgbImage,
};

use super::limits::{check_dimensions, decoder_limits, PixelBudget, MAX_PAGES, MAX_PIXELS};
use super::{bad, ImagingError};

/// What a file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Tiff,
    WebP,
    Heif,
    Pdf,
}

/// Recognises a scan from its magic bytes, with a clear message for everything else (a text
/// file named `.jpg` is told apart from an unknown binary).
pub fn sniff(name: &str, head: &[u8]) -> Result<Kind, ImagingError> {
    if head.is_empty() {
        return Err(bad(name, "the file is empty"));
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Kind::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Kind::Png);
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Ok(Kind::Tiff);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Ok(Kind::WebP);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brand = &head[8..12];
        const HEIF_BRANDS: [&[u8; 4]; 8] = [
            b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
        ];
        if HEIF_BRANDS.iter().any(|b| &brand == b) {
            return Ok(Kind::Heif);
        }
    }
    let probe = &head[..head.len().min(1024)];
    if probe.windows(5).any(|w| w == b"%PDF-") {
        return Ok(Kind::Pdf);
    }
    let printable = probe
        .iter()
        .filter(|&&b| {
            b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80
        })
        .count();
    if std::str::from_utf8(probe).is_ok() || printable * 10 >= probe.len() * 9 {
        return Err(bad(
            name,
            "is a text file, not a scan (expected a JPEG, PNG, TIFF, WebP, HEIC or PDF)",
        ));
    }
    Err(bad(
        name,
        "is not a scan GradeDesk can read (expected a JPEG, PNG, TIFF, WebP, HEIC or PDF)",
    ))
}

/// One page of a scan, decoded and upright.
#[derive(Debug)]
pub struct DecodedPage {
    /// 8-bit grey or RGB, upright.
    pub image: DynamicImage,
    /// The file format the page came in.
    pub format: ImageFormat,
    /// True when the original bytes decode to exactly `image` (a plain 8-bit JPEG or PNG):
    /// they are then kept as the page, with no re-encoding.
    pub original_is_page: bool,
}

/// Decodes a single-image raster file (JPEG, PNG, WebP), refusing bombs from the header.
pub fn decode_single(
    name: &str,
    bytes: &[u8],
    format: ImageFormat,
) -> Result<DecodedPage, ImagingError> {
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        // The JPEG decoder pads a cut-short file with grey; refuse it instead.
        return Err(bad(
            name,
            "is damaged or cut short (the JPEG ends before its last marker)",
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits());
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => bad(
            name,
            format!(
                "declares a page larger than the {} megapixels GradeDesk accepts (a decompression bomb, or a scan at a needlessly high resolution)",
                MAX_PIXELS / 1_000_000
            ),
        ),
        e => bad(name, format!("is damaged or not really an image ({e})")),
    })?;
    let (w, h) = decoder.dimensions();
    check_dimensions(name, w, h)?;
    let orientation = decoder.orientation().ok();
    drop(decoder);
    // The non-generic entry point: its decoding loops are compiled with the image crate's
    // optimisation, whatever profile this crate is built with.
    let mut image = image::load_from_memory_with_format(bytes, format)
        .map_err(|e| bad(name, format!("is damaged or cut short ({e})")))?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    let (image, changed) = normalize(image);
    Ok(DecodedPage {
        image,
        format,
        original_is_page: !changed && matches!(format, ImageFormat::Jpeg | ImageFormat::Png),
    })
}

/// True when a JPEG's end-of-image marker follows its image data. Inside entropy-coded data
/// 0xFF is always followed by 0x00 or a restart marker, so an `FF D9` after the last
/// start-of-scan is the real end.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let eoi = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_sos, eoi), (Some(s), Some(e)) if e > s)
}

/// Brings any colour model to 8-bit grey or RGB; transparency is composited on white, as
/// paper. Returns whether anything changed.
pub fn normalize(image: DynamicImage) -> (DynamicImage, bool) {
    match image {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => (image, false),
        DynamicImage::ImageLuma16(_) => (DynamicImage::ImageLuma8(image.to_luma8()), true),
        DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgb32F(_) => {
            (DynamicImage::ImageRgb8(image.to_rgb8()), true)
        }
        DynamicImage::ImageLumaA8(_) | DynamicImage::ImageLumaA16(_) => {
            let la = image.to_luma_alpha8();
            let out = GrayImage::from_fn(la.width(), la.height(), |x, y| {
                let p = la.get_pixel(x, y).0;
                Luma([over_white(p[0], p[1])])
            });
            (DynamicImage::ImageLuma8(out), true)
        }
        other => {
            let rgba = other.to_rgba8();
            let out = RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
                let p = rgba.get_pixel(x, y).0;
                Rgb([
                    over_white(p[0], p[3]),
                    over_white(p[1], p[3]),
                    over_white(p[2], p[3]),
                ])
            });
            (DynamicImage::ImageRgb8(out), true)
        }
    }
}

fn over_white(value: u8, alpha: u8) -> u8 {
    let (v, a) = (u32::from(value), u32::from(alpha));
    ((v * a + 255 * (255 - a) + 127) / 255) as u8
}

/// Decodes a TIFF page by page, handing each upright page to `page` before decoding the next,
/// so a 100-page TIFF never holds more than one page in memory. Returns the page count.
pub fn for_each_tiff_page(
    name: &str,
    bytes: &[u8],
    mut page: impl FnMut(DecodedPage) -> Result<(), ImagingError>,
) -> Result<usize, ImagingError> {
    use tiff::decoder::{Decoder, Limits};
    use tiff::tags::Tag;
    let damaged = |e: tiff::TiffError| bad(name, format!("is a damaged TIFF ({e})"));
    let mut limits = Limits::default();
    limits.decoding_buffer_size = (MAX_PIXELS * 8) as usize;
    let mut decoder = Decoder::new(Cursor::new(bytes))
        .map_err(damaged)?
        .with_limits(limits);
    let mut count = 0;
    let mut budget = PixelBudget::default();
    loop {
        count += 1;
        if count > MAX_PAGES {
            return Err(bad(name, format!("has more than {MAX_PAGES} pages")));
        }
        let page_name = format!("{name} (page {count})");
        let (w, h) = decoder.dimensions().map_err(damaged)?;
        check_dimensions(&page_name, w, h)?;
        budget.spend(name, u64::from(w), u64::from(h))?;
        let color = decoder.colortype().map_err(damaged)?;
        let photometric: Option<u16> = decoder
            .find_tag_unsigned(Tag::PhotometricInterpretation)
            .unwrap_or(None);
        let orientation: Option<u16> = decoder.find_tag_unsigned(Tag::Orientation).unwrap_or(None);
        let data = decoder
            .read_image()
            .map_err(|e| bad(&page_name, format!("is damaged or cut short ({e})")))?;
        let mut image = tiff_to_image(&page_name, w, h, color, data, photometric == Some(0))?;
        if let Some(o) = orientation
            .and_then(|o| u8::try_from(o).ok())
            .and_then(Orientation::from_exif)
        {
            image.apply_orientation(o);
        }
        let (image, _) = normalize(image);
        page(DecodedPage {
            image,
            format: ImageFormat::Tiff,
            original_is_page: false,
        })?;
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(damaged)?;
    }
    Ok(count)
}

fn tiff_to_image(
    name: &str,
    w: u32,
    h: u32,
    color: tiff::ColorType,
    data: tiff::decoder::DecodingResult,
    white_is_zero: bool,
) -> Result<DynamicImage, ImagingError> {
    use tiff::decoder::DecodingResult as D;
    use tiff::ColorType as C;
    let short = || bad(name, "is cut short (fewer pixels than its header says)");
    let image = match (color, data) {
        (C::Gray(1), D::U8(bits)) => {
            // Bilevel (fax-style) scans: rows are padded to whole bytes.
            let stride = (w as usize).div_ceil(8);
            if bits.len() < stride * h as usize {
                return Err(short());
            }
            DynamicImage::ImageLuma8(GrayImage::from_fn(w, h, |x, y| {
                let byte = bits[y as usize * stride + x as usize / 8];
                let set = byte & (0x80 >> (x % 8)) != 0;
                Luma([if set { 255 } else { 0 }])
            }))
        }
        (C::Gray(8), D::U8(v)) => DynamicImage::ImageLuma8(buffer(w, h, v).ok_or_else(short)?),
        (C::Gray(16), D::U16(v)) => DynamicImage::ImageLuma16(buffer(w, h, v).ok_or_else(short)?),
        (C::GrayA(8), D::U8(v)) => DynamicImage::ImageLumaA8(buffer(w, h, v).ok_or_else(short)?),
        (C::RGB(8), D::U8(v)) => DynamicImage::ImageRgb8(buffer(w, h, v).ok_or_else(short)?),
        (C::RGB(16), D::U16(v)) => DynamicImage::ImageRgb16(buffer(w, h, v).ok_or_else(short)?),
        (C::RGBA(8), D::U8(v)) => DynamicImage::ImageRgba8(buffer(w, h, v).ok_or_else(short)?),
        (C::RGBA(16), D::U16(v)) => DynamicImage::ImageRgba16(buffer(w, h, v).ok_or_else(short)?),
        (C::CMYK(8), D::U8(v)) => {
            if v.len() < (w as usize) * (h as usize) * 4 {
                return Err(short());
            }
            let rgb = v
                .chunks_exact(4)
                .flat_map(|p| {
                    let k = 255 - u32::from(p[3]);
                    [
                        ((255 - u32::from(p[0])) * k / 255) as u8,
                        ((255 - u32::from(p[1])) * k / 255) as u8,
                        ((255 - u32::from(p[2])) * k / 255) as u8,
                    ]
                })
                .collect();
            DynamicImage::ImageRgb8(buffer(w, h, rgb).ok_or_else(short)?)
        }
        (other, _) => {
            return Err(bad(
                name,
                format!(
                "uses a TIFF colour model GradeDesk cannot read ({other:?}); save it as PNG or PDF"
            ),
            ))
        }
    };
    Ok(if white_is_zero {
        let mut image = image;
        image.invert();
        image
    } else {
        image
    })
}

fn buffer<P: image::Pixel>(
    w: u32,
    h: u32,
    mut data: Vec<P::Subpixel>,
) -> Option<ImageBuffer<P, Vec<P::Subpixel>>> {
    let needed = w as usize * h as usize * usize::from(P::CHANNEL_COUNT);
    if data.len() < needed {
        return None;
    }
    data.truncate(needed);
    ImageBuffer::from_raw(w, h, data)
}

/// Decodes every page of a raster file (not PDF or HEIC, which need helper programs), for
/// callers that want them all at once. Import streams pages instead.
pub fn decode_scan(name: &str, bytes: &[u8]) -> Result<Vec<DecodedPage>, ImagingError> {
    super::limits::check_file_size(name, bytes.len() as u64)?;
    match sniff(name, bytes)? {
        Kind::Jpeg => Ok(vec![decode_single(name, bytes, ImageFormat::Jpeg)?]),
        Kind::Png => Ok(vec![decode_single(name, bytes, ImageFormat::Png)?]),
        Kind::WebP => Ok(vec![decode_single(name, bytes, ImageFormat::WebP)?]),
        Kind::Tiff => {
            let mut pages = Vec::new();
            for_each_tiff_page(name, bytes, |p| {
                pages.push(p);
                Ok(())
            })?;
            Ok(pages)
        }
        Kind::Heif | Kind::Pdf => Err(bad(
            name,
            "HEIC and PDF files are imported page by page; use imaging::import_scan",
        )),
    }
}
