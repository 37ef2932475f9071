//! PDFs, page by page. A scanner/copier page (one JPEG drawn over the whole page, nothing
//! else) is taken out as the JPEG it is, with no re-encoding; any other page is rendered
//! by poppler's `pdftoppm` (a real PDF renderer) at [`RENDER_DPI`], lossless PNG, under a
//! time limit.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lopdf::{Document, LoadOptions, Object, ObjectId};

use super::limits::{check_dimensions, PixelBudget, MAX_CONTENT_BYTES, MAX_PAGES, MAX_PIXELS};
use super::subprocess::{file_arg, run, Failure};
use super::{bad, ImagingError};

/// Resolution of rendered pages: handwriting stays legible and an A4 page is 1654 × 2339,
/// under half the pixels (and decode time) of 300 dpi.
pub const RENDER_DPI: u32 = 200;
const RENDER_TIMEOUT: Duration = Duration::from_secs(120);
const INFO_TIMEOUT: Duration = Duration::from_secs(30);

/// How one page will be produced.
#[derive(Debug, Clone, PartialEq)]
pub enum PageSource {
    /// The JPEG stream of this image object is the page, exactly.
    Embedded { image: ObjectId, dpi: f64 },
    /// Render the page with poppler at this resolution.
    Render { dpi: u32 },
}

/// A PDF opened for import: its pages, in order, each with how to get it.
pub struct PdfScan {
    doc: Option<Document>,
    /// Page sources, in page order (page numbers count from 1).
    pub pages: Vec<PageSource>,
}

impl PdfScan {
    /// Reads the page tree (lopdf) and decides page by page; falls back to poppler's
    /// `pdfinfo` for files lopdf cannot parse, rendering every page then. Every stream is
    /// unpacked within [`MAX_CONTENT_BYTES`] (a page's content streams together), and the
    /// pages together must fit [`super::limits::MAX_TOTAL_PIXELS`]: a file breaking either
    /// is refused with a sentence before anything is rendered.
    pub fn open(name: &str, path: &Path) -> Result<Self, ImagingError> {
        // Image streams are cut to their headers while loading: the structure of a 200-page
        // PDF stays small, and each page's JPEG is read from disk by `pdfimages` in turn.
        let options = LoadOptions {
            max_decompressed_size: Some(MAX_CONTENT_BYTES),
            ..LoadOptions::with_filter(keep_image_headers)
        };
        let mut budget = PixelBudget::default();
        match Document::load_with_options(path, options) {
            Ok(doc) => {
                let numbered = doc.get_pages();
                if numbered.is_empty() {
                    return Err(bad(name, "is a PDF with no pages"));
                }
                if numbered.len() > MAX_PAGES {
                    return Err(bad(name, format!("has more than {MAX_PAGES} pages")));
                }
                let mut pages = Vec::with_capacity(numbered.len());
                for (number, id) in numbered {
                    let content = page_content(&doc, id).map_err(|limit| {
                        bad(name, format!("page {number}'s drawing instructions unpack to more than {} MB (a decompression bomb, or not a scan)", limit / 1024 / 1024))
                    })?;
                    let (source, pixels) = match classify(&doc, id, &content) {
                        Some(found) => found,
                        None => {
                            let size = page_size(&doc, id);
                            let dpi = render_dpi(name, number, size)?;
                            (PageSource::Render { dpi }, rendered_pixels(size, dpi))
                        }
                    };
                    budget.spend(name, pixels, 1)?;
                    pages.push(source);
                }
                Ok(Self {
                    doc: Some(doc),
                    pages,
                })
            }
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded {
                limit,
            })) => Err(bad(
                name,
                format!(
                    "holds a stream that unpacks to more than {} MB (a decompression bomb, or not a scan)",
                    limit / 1024 / 1024
                ),
            )),
            Err(e) => {
                tracing::info!(file = name, error = %e, "lopdf could not read the PDF; asking poppler");
                let sizes = poppler_page_sizes(name, path)?;
                let mut pages = Vec::with_capacity(sizes.len());
                for (i, size) in sizes.into_iter().enumerate() {
                    let dpi = render_dpi(name, i as u32 + 1, Some(size))?;
                    budget.spend(name, rendered_pixels(Some(size), dpi), 1)?;
                    pages.push(PageSource::Render { dpi });
                }
                Ok(Self { doc: None, pages })
            }
        }
    }

    /// The first bytes (headers) of an embedded page image, as kept while loading.
    pub fn embedded_head(&self, image: ObjectId) -> Option<&[u8]> {
        let doc = self.doc.as_ref()?;
        let stream = doc.get_object(image).ok()?.as_stream().ok()?;
        Some(&stream.content)
    }
}

/// How much of an image stream is kept while loading: enough for its JPEG headers (EXIF
/// included), never its pixels.
const HEAD_BYTES: usize = 64 * 1024;

fn keep_image_headers(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    if let Object::Stream(stream) = object {
        let is_image = stream
            .dict
            .get(b"Subtype")
            .and_then(|o| o.as_name())
            .is_ok_and(|n| n == b"Image");
        if is_image && stream.content.len() > HEAD_BYTES {
            stream.content.truncate(HEAD_BYTES);
            stream.content.shrink_to_fit();
        }
    }
    // lopdf keeps the object as mutated here; the returned value only says "keep it".
    Some((id, Object::Null))
}

/// Takes page `number`'s embedded JPEG out of the file byte for byte with poppler's
/// `pdfimages -j` (which streams from disk). `head` is what the structure pass saw: the
/// extracted file must start with it, or the page is not what it seemed (None: render it).
pub fn extract_jpeg(
    name: &str,
    path: &Path,
    number: u32,
    head: &[u8],
    scratch: &Path,
) -> Result<Option<Vec<u8>>, ImagingError> {
    std::fs::create_dir_all(scratch).map_err(super::io(scratch))?;
    let stem = format!("image-{number}");
    let prefix = file_arg(&scratch.join(&stem)).map_err(super::io(scratch))?;
    let path = file_arg(path).map_err(super::io(path))?;
    let n = number.to_string();
    run(
        "pdfimages",
        &[
            OsStr::new("-j"),
            OsStr::new("-f"),
            OsStr::new(&n),
            OsStr::new("-l"),
            OsStr::new(&n),
            OsStr::new("--"),
            path.as_os_str(),
            prefix.as_os_str(),
        ],
        RENDER_TIMEOUT,
    )
    .map_err(|f| poppler_error(&format!("{name} (page {number})"), "pdfimages", f))?;
    let mut produced: Vec<PathBuf> = std::fs::read_dir(scratch)
        .map_err(super::io(scratch))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with(&format!("{stem}-")))
        })
        .collect();
    produced.sort();
    let jpeg = match produced.as_slice() {
        [one] if one.extension().is_some_and(|e| e == "jpg") => {
            Some(std::fs::read(one).map_err(super::io(one))?)
        }
        _ => None,
    };
    for p in &produced {
        let _ = std::fs::remove_file(p);
    }
    Ok(jpeg.filter(|j| j.starts_with(head)))
}

/// A page's content streams, unpacked within [`MAX_CONTENT_BYTES`]; the limit when they
/// would unpack to more.
fn page_content(doc: &Document, page: ObjectId) -> Result<Vec<u8>, usize> {
    match doc.get_page_content_with_limit(page, MAX_CONTENT_BYTES) {
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
            Err(MAX_CONTENT_BYTES)
        }
        // Damaged content: the page is rendered, and poppler says what it makes of it.
        Err(_) => Ok(Vec::new()),
        Ok(content) => Ok(content),
    }
}

/// The pixels of a page of `size` points rendered at `dpi` (A4 when the size is unknown).
fn rendered_pixels(size: Option<(f64, f64)>, dpi: u32) -> u64 {
    let (w, h) = size.unwrap_or((595.0, 842.0));
    let px = |points: f64| (points / 72.0 * f64::from(dpi)).ceil() as u64;
    px(w).saturating_mul(px(h))
}

/// Decides whether a page is a plain scanner page whose JPEG can be taken as is, from its
/// unpacked `content`; with the JPEG's pixel count.
fn classify(doc: &Document, page: ObjectId, content: &[u8]) -> Option<(PageSource, u64)> {
    let rotate = inherited(doc, page, b"Rotate")
        .and_then(|o| o.as_i64().ok())
        .unwrap_or(0);
    if rotate.rem_euclid(360) != 0 {
        return None;
    }
    let (llx, lly, urx, ury) = page_box(doc, page)?;
    let images = doc.get_page_images(page).ok()?;
    let [image] = images.as_slice() else {
        return None;
    };
    let filters = image.filters.as_ref()?;
    if filters.len() != 1 || filters[0] != "DCTDecode" || image.bits_per_component != Some(8) {
        return None;
    }
    let dict = image.origin_dict;
    if [&b"Decode"[..], b"SMask", b"Mask", b"ImageMask"]
        .iter()
        .any(|k| dict.has(k))
    {
        return None;
    }
    let (jw, jh, components, exif_rotated) = jpeg_header(image.content)?;
    if i64::from(jw) != image.width
        || i64::from(jh) != image.height
        || !(components == 1 || components == 3)
        || exif_rotated
    {
        return None;
    }
    // The content must only place that one image over the whole page.
    let content = lopdf::content::Content::decode(content).ok()?;
    let mut ctm = [1.0f64, 0.0, 0.0, 1.0, 0.0, 0.0];
    let mut stack = Vec::new();
    let mut drawn = None;
    for op in &content.operations {
        match op.operator.as_str() {
            "q" => stack.push(ctm),
            "Q" => ctm = stack.pop()?,
            "cm" => {
                let m: Vec<f64> = op
                    .operands
                    .iter()
                    .map(|o| o.as_float().map(f64::from))
                    .collect::<Result<_, _>>()
                    .ok()?;
                let [a, b, c, d, e, f] = m.as_slice() else {
                    return None;
                };
                ctm = multiply([*a, *b, *c, *d, *e, *f], ctm);
            }
            "Do" if drawn.is_none() => drawn = Some(ctm),
            _ => return None,
        }
    }
    let [a, b, c, d, e, f] = drawn?;
    let (pw, ph) = (urx - llx, ury - lly);
    let tol = 2.0;
    let covers = b.abs() < 1e-6
        && c.abs() < 1e-6
        && (a - pw).abs() <= tol
        && (d - ph).abs() <= tol
        && (e - llx).abs() <= tol
        && (f - lly).abs() <= tol;
    if !covers {
        return None;
    }
    let dpi = f64::from(jw) / (pw / 72.0);
    Some((
        PageSource::Embedded {
            image: image.id,
            dpi,
        },
        u64::from(jw) * u64::from(jh),
    ))
}

fn multiply(m: [f64; 6], n: [f64; 6]) -> [f64; 6] {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

/// A page attribute, looked up through the page tree as PDF inheritance says.
fn inherited<'a>(doc: &'a Document, page: ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut node = doc.get_dictionary(page).ok()?;
    for _ in 0..64 {
        if let Ok(value) = node.get(key) {
            return doc.dereference(value).ok().map(|(_, o)| o);
        }
        let parent = node.get(b"Parent").ok()?.as_reference().ok()?;
        node = doc.get_dictionary(parent).ok()?;
    }
    None
}

fn page_box(doc: &Document, page: ObjectId) -> Option<(f64, f64, f64, f64)> {
    let array = inherited(doc, page, b"CropBox")
        .or_else(|| inherited(doc, page, b"MediaBox"))?
        .as_array()
        .ok()?;
    let v: Vec<f64> = array
        .iter()
        .map(|o| {
            doc.dereference(o)
                .ok()
                .and_then(|(_, o)| o.as_float().ok())
                .map(f64::from)
        })
        .collect::<Option<_>>()?;
    let [x0, y0, x1, y1] = v.as_slice() else {
        return None;
    };
    Some((x0.min(*x1), y0.min(*y1), x0.max(*x1), y0.max(*y1)))
}

fn page_size(doc: &Document, page: ObjectId) -> Option<(f64, f64)> {
    let (x0, y0, x1, y1) = page_box(doc, page)?;
    let rotate = inherited(doc, page, b"Rotate")
        .and_then(|o| o.as_i64().ok())
        .unwrap_or(0);
    if rotate.rem_euclid(180) == 90 {
        Some((y1 - y0, x1 - x0))
    } else {
        Some((x1 - x0, y1 - y0))
    }
}

/// The render resolution for a page of this size (points), lowered for oversized pages and
/// refused for absurd ones (a PDF "bomb" declaring a page kilometres wide).
fn render_dpi(name: &str, number: u32, size: Option<(f64, f64)>) -> Result<u32, ImagingError> {
    let (w, h) = size.unwrap_or((595.0, 842.0));
    if !(w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0) {
        return Err(bad(name, format!("page {number} has no size")));
    }
    let pixels_at = |dpi: f64| (w / 72.0 * dpi) * (h / 72.0 * dpi);
    let mut dpi = f64::from(RENDER_DPI);
    while pixels_at(dpi) > MAX_PIXELS as f64 && dpi > 72.0 {
        dpi -= 25.0;
    }
    let (pw, ph) = ((w / 72.0 * dpi).ceil(), (h / 72.0 * dpi).ceil());
    if pw > f64::from(u32::MAX) || ph > f64::from(u32::MAX) {
        return Err(bad(name, format!("page {number} is absurdly large")));
    }
    check_dimensions(&format!("{name} (page {number})"), pw as u32, ph as u32)?;
    Ok(dpi as u32)
}

/// The JPEG's size, component count and whether EXIF asks for a rotation, from its headers.
pub fn jpeg_header(bytes: &[u8]) -> Option<(u32, u32, u8, bool)> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    let mut exif_rotated = false;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let body = bytes.get(i + 4..i + 2 + len)?;
        if marker == 0xE1 && body.starts_with(b"Exif\0\0") {
            if let Some(o) = image::metadata::Orientation::from_exif_chunk(&body[6..]) {
                exif_rotated = o != image::metadata::Orientation::NoTransforms;
            }
        }
        let is_sof = (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker);
        if is_sof && body.len() >= 6 {
            let h = u32::from(u16::from_be_bytes([body[1], body[2]]));
            let w = u32::from(u16::from_be_bytes([body[3], body[4]]));
            return Some((w, h, body[5], exif_rotated));
        }
        i += 2 + len;
    }
    None
}

fn poppler_error(name: &str, program: &str, failure: Failure) -> ImagingError {
    match failure {
        Failure::Missing(p) => ImagingError::Tool(format!(
            "{name}: this PDF needs {p} (Debian package poppler-utils) to be rendered; install it"
        )),
        Failure::TimedOut => bad(
            name,
            format!("took too long to read ({program} was stopped)"),
        ),
        Failure::Failed(msg) if msg.to_lowercase().contains("password") => bad(
            name,
            "is a password-protected PDF; save an unprotected copy and import that",
        ),
        Failure::Failed(msg) => bad(name, format!("is a damaged PDF ({msg})")),
        Failure::Other(e) => e,
    }
}

/// Page sizes (points, rotation applied) from `pdfinfo`, for PDFs lopdf cannot parse.
fn poppler_page_sizes(name: &str, path: &Path) -> Result<Vec<(f64, f64)>, ImagingError> {
    let path = file_arg(path).map_err(super::io(path))?;
    let out = run(
        "pdfinfo",
        &[
            OsStr::new("-f"),
            OsStr::new("1"),
            OsStr::new("-l"),
            OsStr::new("100000"),
            OsStr::new("--"),
            path.as_os_str(),
        ],
        INFO_TIMEOUT,
    )
    .map_err(|f| poppler_error(name, "pdfinfo", f))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut sizes = Vec::new();
    let mut rotations = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("Page") else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some((_, value)) = rest.split_once("size:") {
            let nums: Vec<f64> = value
                .split_whitespace()
                .filter_map(|t| t.parse().ok())
                .collect();
            if let [w, h, ..] = nums[..] {
                sizes.push((w, h));
            }
        } else if let Some((_, value)) = rest.split_once("rot:") {
            rotations.push(value.trim().parse::<i64>().unwrap_or(0));
        }
    }
    if sizes.is_empty() {
        return Err(bad(name, "is a PDF with no pages"));
    }
    if sizes.len() > MAX_PAGES {
        return Err(bad(name, format!("has more than {MAX_PAGES} pages")));
    }
    Ok(sizes
        .into_iter()
        .enumerate()
        .map(|(i, (w, h))| {
            if rotations.get(i).is_some_and(|r| r.rem_euclid(180) == 90) {
                (h, w)
            } else {
                (w, h)
            }
        })
        .collect())
}

/// Renders one page (counting from 1) to PNG bytes with `pdftoppm`.
pub fn render_page(
    name: &str,
    path: &Path,
    number: u32,
    dpi: u32,
    scratch: &Path,
) -> Result<Vec<u8>, ImagingError> {
    std::fs::create_dir_all(scratch).map_err(super::io(scratch))?;
    let prefix = file_arg(&scratch.join(format!("render-{number}"))).map_err(super::io(scratch))?;
    let path = file_arg(path).map_err(super::io(path))?;
    let (n, r) = (number.to_string(), dpi.to_string());
    run(
        "pdftoppm",
        &[
            OsStr::new("-r"),
            OsStr::new(&r),
            OsStr::new("-f"),
            OsStr::new(&n),
            OsStr::new("-l"),
            OsStr::new(&n),
            OsStr::new("-png"),
            OsStr::new("-singlefile"),
            OsStr::new("--"),
            path.as_os_str(),
            prefix.as_os_str(),
        ],
        RENDER_TIMEOUT,
    )
    .map_err(|f| poppler_error(&format!("{name} (page {number})"), "pdftoppm", f))?;
    let out = prefix.with_extension("png");
    let bytes = std::fs::read(&out).map_err(super::io(&out))?;
    let _ = std::fs::remove_file(&out);
    Ok(bytes)
}
