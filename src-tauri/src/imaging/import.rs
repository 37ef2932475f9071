//! The import pipeline, page by page: recognise the file, then for each page decode it,
//! write its files, judge whether it needs enhancing, and drop it before the next one, so
//! a 200-page PDF never holds more than one decoded page.
//!
//! A page directory being filled carries an `.importing` marker until the caller has
//! committed the pages to the database ([`finish`]); [`sweep_abandoned`] removes directories
//! a crash left with the marker, so nothing half-imported stays on disk.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use image::ImageFormat;

use super::enhance::{assess, Assessment};
use super::formats::{decode_single, for_each_tiff_page, sniff, DecodedPage, Kind};
use super::limits::check_file_size;
use super::pages::write_page;
use super::pdf::{PageSource, PdfScan};
use super::{bad, heif, io, ImagingError};

const MARKER: &str = ".importing";
const SCRATCH: &str = ".scratch";

/// Where a scan's bytes come from: a file on disk (the CLI) or bytes sent by the window.
pub enum ScanSource {
    Path(PathBuf),
    Bytes(Vec<u8>),
}

/// One imported page: its files, size, and what enhancement it needs.
#[derive(Debug, Clone)]
pub struct ImportedPage {
    pub number: u32,
    pub path: PathBuf,
    pub preview_path: PathBuf,
    pub thumb_path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub assessment: Assessment,
}

/// Imports every page of one scan into `dir` (created, with the marker). On any error the
/// directory is removed and the error names the file (and page) and the reason.
pub fn import_scan(
    name: &str,
    source: ScanSource,
    dir: &Path,
) -> Result<Vec<ImportedPage>, ImagingError> {
    let options = ImportOptions {
        assess: true,
        keep_going: false,
    };
    import_scan_with(name, source, dir, options, &mut |_, _| Ok(())).map(|scan| scan.pages)
}

/// How [`import_scan_with`] treats the pages of a file.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Measure resolution and skew for enhancement (a class import aligns pages instead).
    pub assess: bool,
    /// A damaged page is listed in [`ScanImport::bad_pages`] and the next one read, instead
    /// of failing the file: one bad sheet in a class's scanner PDF must not lose the class.
    pub keep_going: bool,
}

/// A file's pages as imported, and the pages that could not be read (with `keep_going`).
#[derive(Debug, Default)]
pub struct ScanImport {
    pub pages: Vec<ImportedPage>,
    /// (page number in the file, from 1; the reason).
    pub bad_pages: Vec<(u32, String)>,
}

/// [`import_scan`], with options and a sink that is handed each page decoded, once its
/// files are written (the class import registers it there, instead of decoding it again).
pub fn import_scan_with(
    name: &str,
    source: ScanSource,
    dir: &Path,
    options: ImportOptions,
    on_page: &mut dyn FnMut(&ImportedPage, image::DynamicImage) -> Result<(), ImagingError>,
) -> Result<ScanImport, ImagingError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let marker = dir.join(MARKER);
    std::fs::write(&marker, name.as_bytes()).map_err(io(&marker))?;
    let result = import_into(name, source, dir, options, on_page);
    let _ = std::fs::remove_dir_all(dir.join(SCRATCH));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// Marks an import as committed: its directory is no longer a candidate for the sweep.
pub fn finish(dir: &Path) {
    if let Err(e) = std::fs::remove_file(dir.join(MARKER)) {
        tracing::warn!(dir = %dir.display(), error = %e, "could not remove the import marker");
    }
}

/// Removes page directories under `scans` that an import left unfinished more than
/// `older_than` ago (a crash between writing files and committing rows).
pub fn sweep_abandoned(scans: &Path, older_than: Duration) {
    let Ok(entries) = std::fs::read_dir(scans) else {
        return;
    };
    for entry in entries.flatten() {
        let marker = entry.path().join(MARKER);
        let stale = std::fs::metadata(&marker)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > older_than);
        if stale {
            tracing::warn!(dir = %entry.path().display(), "removing an abandoned import");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn import_into(
    name: &str,
    source: ScanSource,
    dir: &Path,
    options: ImportOptions,
    on_page: &mut dyn FnMut(&ImportedPage, image::DynamicImage) -> Result<(), ImagingError>,
) -> Result<ScanImport, ImagingError> {
    // Only raster files are read whole; PDFs and HEIC photos are read from disk by their
    // parsers, so a 200-page PDF is never held twice.
    let (head, mut bytes, path) = match source {
        ScanSource::Path(path) => {
            let len = std::fs::metadata(&path)
                .map_err(|e| bad(name, format!("could not be opened ({e})")))?
                .len();
            check_file_size(name, len)?;
            let mut head = Vec::with_capacity(4096);
            std::fs::File::open(&path)
                .and_then(|f| {
                    std::io::Read::read_to_end(&mut std::io::Read::take(f, 4096), &mut head)
                })
                .map_err(|e| bad(name, format!("could not be read ({e})")))?;
            (head, None, Some(path))
        }
        ScanSource::Bytes(bytes) => {
            check_file_size(name, bytes.len() as u64)?;
            (bytes[..bytes.len().min(4096)].to_vec(), Some(bytes), None)
        }
    };
    let kind = sniff(name, &head)?;
    let whole = |bytes: Option<Vec<u8>>| -> Result<Vec<u8>, ImagingError> {
        match (bytes, &path) {
            (Some(b), _) => Ok(b),
            (None, Some(p)) => {
                std::fs::read(p).map_err(|e| bad(name, format!("could not be read ({e})")))
            }
            (None, None) => Err(bad(name, "has no content")),
        }
    };
    // Helper programs and the PDF parser read files: give them one for window uploads.
    let on_disk = |bytes: Option<Vec<u8>>| -> Result<PathBuf, ImagingError> {
        match (&path, bytes) {
            (Some(p), _) => Ok(p.clone()),
            (None, Some(bytes)) => {
                let scratch = dir.join(SCRATCH);
                std::fs::create_dir_all(&scratch).map_err(io(&scratch))?;
                let p = scratch.join("upload");
                std::fs::write(&p, &bytes).map_err(io(&p))?;
                Ok(p)
            }
            (None, None) => Err(bad(name, "has no content")),
        }
    };
    let mut pages = Vec::new();
    let mut keep = |number: u32,
                    page: DecodedPage,
                    original: Option<&[u8]>,
                    dpi: Option<f64>|
     -> Result<(), ImagingError> {
        let original = original
            .filter(|_| page.original_is_page)
            .map(|b| (b, page.format));
        let files = write_page(dir, &format!("page-{number}"), &page.image, original)?;
        let assessment = if options.assess {
            assess(&page.image, dpi)
        } else {
            Assessment {
                dpi: dpi.unwrap_or(0.0),
                skew_deg: 0.0,
            }
        };
        tracing::debug!(
            file = name,
            number,
            dpi = assessment.dpi,
            skew = assessment.skew_deg,
            "page imported"
        );
        let imported = ImportedPage {
            number,
            path: files.path,
            preview_path: files.preview_path,
            thumb_path: files.thumb_path,
            width: files.width,
            height: files.height,
            assessment,
        };
        on_page(&imported, page.image)?;
        pages.push(imported);
        Ok(())
    };
    let mut bad_pages = Vec::new();
    match kind {
        Kind::Jpeg | Kind::Png | Kind::WebP => {
            let format = match kind {
                Kind::Jpeg => ImageFormat::Jpeg,
                Kind::Png => ImageFormat::Png,
                _ => ImageFormat::WebP,
            };
            let bytes = whole(bytes.take())?;
            let page = decode_single(name, &bytes, format)?;
            keep(1, page, Some(&bytes), None)?;
        }
        Kind::Tiff => {
            let bytes = whole(bytes.take())?;
            let mut number = 0;
            for_each_tiff_page(name, &bytes, |page| {
                number += 1;
                keep(number, page, None, None)
            })?;
        }
        Kind::Heif => {
            let file = on_disk(bytes.take())?;
            let page = heif::decode(name, &file, &dir.join(SCRATCH))?;
            keep(1, page, None, None)?;
        }
        Kind::Pdf => {
            let file = on_disk(bytes.take())?;
            let scan = PdfScan::open(name, &file)?;
            for (index, source) in scan.pages.iter().enumerate() {
                let number = index as u32 + 1;
                let page_name = format!("{name} (page {number})");
                let one_page = (|| -> Result<(), ImagingError> {
                    match source {
                        PageSource::Embedded { image, dpi } => {
                            let head = scan
                                .embedded_head(*image)
                                .ok_or_else(|| bad(&page_name, "has an unreadable image"))?;
                            let scratch = dir.join(SCRATCH);
                            match super::pdf::extract_jpeg(name, &file, number, head, &scratch)? {
                                Some(jpeg) => {
                                    let page = decode_single(&page_name, &jpeg, ImageFormat::Jpeg)?;
                                    keep(number, page, Some(&jpeg), Some(*dpi))
                                }
                                None => {
                                    tracing::info!(
                                        file = name,
                                        number,
                                        "embedded image not extractable as is; rendering"
                                    );
                                    let dpi = super::pdf::RENDER_DPI;
                                    let png = super::pdf::render_page(
                                        name, &file, number, dpi, &scratch,
                                    )?;
                                    let page = decode_single(&page_name, &png, ImageFormat::Png)?;
                                    keep(number, page, Some(&png), Some(f64::from(dpi)))
                                }
                            }
                        }
                        PageSource::Render { dpi } => {
                            let png = super::pdf::render_page(
                                name,
                                &file,
                                number,
                                *dpi,
                                &dir.join(SCRATCH),
                            )?;
                            let page = decode_single(&page_name, &png, ImageFormat::Png)?;
                            keep(number, page, Some(&png), Some(f64::from(*dpi)))
                        }
                    }
                })();
                match one_page {
                    Ok(()) => {}
                    // A damaged page: listed, and the next one read.
                    Err(ImagingError::BadInput { reason, .. }) if options.keep_going => {
                        tracing::warn!(file = name, number, "a page could not be read");
                        bad_pages.push((number, reason));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
    if pages.is_empty() && bad_pages.is_empty() {
        return Err(bad(name, "has no pages"));
    }
    if pages.is_empty() {
        return Err(bad(
            name,
            format!("has no readable page ({})", bad_pages[0].1),
        ));
    }
    Ok(ScanImport { pages, bad_pages })
}
