//! Scan fixtures generated in code (nothing binary is committed): pages with handwriting-like
//! strokes, scanner-style PDFs, multi-page TIFFs, EXIF-rotated JPEGs, bombs and broken files.
//! Shared by the tests (as `support::scans`) and the imaging bench (`#[path]`-included, so
//! this file uses nothing else of tests/support).
#![allow(dead_code)]

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, GrayImage, ImageFormat, Luma, Rgb, RgbImage};
use lopdf::{dictionary, Document, Object, Stream};

/// A page of paper with dark strokes that differ per seed (so every crop differs).
pub fn page(w: u32, h: u32, seed: u32) -> RgbImage {
    let mut img = RgbImage::from_pixel(w, h, Rgb([246, 245, 240]));
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let strokes = (w as u64 * h as u64 / 600).max(50);
    for _ in 0..strokes {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let x = state % (w - 12);
        let y = (state / w) % (h - 12);
        for dx in 0..10 {
            img.put_pixel(x + dx, y + dx % 3, Rgb([30, 30, (80 + seed % 100) as u8]));
        }
    }
    img
}

/// Horizontal "text lines" (dark bars) tilted by `deg` degrees, on white: a skewed scan.
pub fn lined_page(w: u32, h: u32, deg: f64) -> GrayImage {
    let t = deg.to_radians().tan();
    GrayImage::from_fn(w, h, |x, y| {
        let yy = f64::from(y) - f64::from(x) * t;
        let line = (yy / 40.0).rem_euclid(1.0) < 0.25 && x > w / 10 && x < w * 9 / 10;
        Luma([if line { 20 } else { 250 }])
    })
}

/// Encodes an image in a format, in memory.
pub fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A JPEG whose EXIF says "rotate 90° clockwise to display" (orientation 6), as phones write.
pub fn exif_rotated_jpeg(stored: &RgbImage) -> Vec<u8> {
    let jpeg = encode(&DynamicImage::ImageRgb8(stored.clone()), ImageFormat::Jpeg);
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0*\0\0\0\x08"); // big-endian TIFF, IFD at 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&[0, 6, 0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A multi-page TIFF: RGB, 16-bit grey and CMYK pages (`pages` of each in turn).
pub fn multipage_tiff(path: &Path, pages: &[RgbImage]) {
    use tiff::encoder::{colortype, TiffEncoder};
    let file = std::fs::File::create(path).unwrap();
    let mut enc = TiffEncoder::new(std::io::BufWriter::new(file)).unwrap();
    for (i, p) in pages.iter().enumerate() {
        let (w, h) = p.dimensions();
        match i % 3 {
            0 => enc
                .write_image::<colortype::RGB8>(w, h, p.as_raw())
                .unwrap(),
            1 => {
                let grey: Vec<u16> = DynamicImage::ImageRgb8(p.clone()).to_luma16().into_raw();
                enc.write_image::<colortype::Gray16>(w, h, &grey).unwrap()
            }
            _ => {
                let cmyk: Vec<u8> = p
                    .pixels()
                    .flat_map(|px| {
                        let [r, g, b] = px.0;
                        let k = 255 - r.max(g).max(b);
                        let c = |v: u8| {
                            if k == 255 {
                                0
                            } else {
                                ((255 - v - k) as u32 * 255 / (255 - k as u32)) as u8
                            }
                        };
                        [c(r), c(g), c(b), k]
                    })
                    .collect();
                enc.write_image::<colortype::CMYK8>(w, h, &cmyk).unwrap()
            }
        }
    }
}

/// A scanner/copier PDF: every page one JPEG drawn over the whole A4 page. With
/// `vector_page`, a last page of vector drawing only (must be rendered).
pub fn scanner_pdf(jpegs: &[Vec<u8>], vector_page: bool) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    let (pw, ph) = (595.0f32, 842.0f32);
    for jpeg in jpegs {
        let (w, h) = jpeg_size(jpeg);
        let grey = jpeg_components(jpeg) == 1;
        let image = Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => w as i64,
                "Height" => h as i64,
                "ColorSpace" => if grey { "DeviceGray" } else { "DeviceRGB" },
                "BitsPerComponent" => 8,
                "Filter" => "DCTDecode",
            },
            jpeg.clone(),
        );
        let image_id = doc.add_object(image);
        let content = format!("q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q");
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), pw.into(), ph.into()],
            "Contents" => content_id,
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
        });
        kids.push(Object::from(page_id));
    }
    if vector_page {
        let content = b"0 0 0 RG 6 w 72 700 m 520 700 l S 72 400 m 300 600 l S 0.2 0.2 0.8 rg 100 100 200 150 re f".to_vec();
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), pw.into(), ph.into()],
            "Contents" => content_id,
            "Resources" => dictionary! {},
        });
        kids.push(Object::from(page_id));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A syntactically fine PDF whose page tree is empty.
pub fn empty_pdf() -> Vec<u8> {
    scanner_pdf(&[], false)
}

fn jpeg_size(jpeg: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).unwrap();
    (img.width(), img.height())
}

fn jpeg_components(jpeg: &[u8]) -> u8 {
    let img = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).unwrap();
    if img.color().channel_count() == 1 {
        1
    } else {
        3
    }
}

/// A PNG that declares 60000 × 60000 pixels in a few dozen bytes: a decompression bomb.
pub fn png_bomb() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    for (kind, data) in [
        (&b"IHDR"[..], &ihdr[..]),
        (
            &b"IDAT"[..],
            &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01][..],
        ),
        (&b"IEND"[..], &[][..]),
    ] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(data);
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A 300-dpi A4 page (2480 × 3508) as a scanner JPEG.
pub fn a4_300dpi_jpeg(seed: u32) -> Vec<u8> {
    encode(
        &DynamicImage::ImageRgb8(page(2480, 3508, seed)),
        ImageFormat::Jpeg,
    )
}

/// A page with level strokes (no slant, so the page needs no deskewing), encoded as PNG: at
/// 1240 × 1760, 150 dpi on A4, it needs no enhancement before cropping.
pub fn level_page_png(seed: u32, width: u32, height: u32) -> Vec<u8> {
    let mut img = RgbImage::from_pixel(width, height, Rgb([246, 245, 240]));
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    for _ in 0..(width * height / 500) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let x = state % (width - 12);
        let y = (state / width) % (height - 12);
        for dx in 0..10 {
            img.put_pixel(x + dx, y, Rgb([30, 30, 80]));
        }
    }
    encode(&DynamicImage::ImageRgb8(img), ImageFormat::Png)
}

/// A 300-dpi A4 page (2480 × 3508) with evenly spaced lines of pencil "writing", so image
/// preparation has lines to measure.
pub fn written_lines_page(seed: u32) -> RgbImage {
    let (w, h) = (2480u32, 3508u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([247, 247, 245]));
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(7);
    let mut y = 400;
    while y < 2000 {
        let mut x = 200;
        while x < w - 300 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let word = 40 + state % 160;
            for dx in 0..word {
                for dy in 0..(30 + (state >> 8) % 20) {
                    if (dx * 3 + dy * 5 + state) % 7 < 3 {
                        img.put_pixel(x + dx, y + dy, Rgb([40, 40, 40]));
                    }
                }
            }
            x += word + 40;
        }
        y += 110;
    }
    img
}
