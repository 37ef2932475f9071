//! Scans in, crops out. Import takes every format a teacher brings (JPEG, PNG, multi-page
//! TIFF, WebP, HEIC, PDF), refuses garbage before it costs memory, and stores each page with
//! a preview and a thumbnail; crops are cut losslessly from a small cache of decoded pages;
//! low-resolution and skewed pages are enhanced before anything is cut from them.
//!
//! One job per file: [`limits`] (what is refused, before decoding), [`formats`] (raster
//! decoding and colour normalisation), [`pdf`] (scanner PDFs and rendering), [`heif`]
//! (iPhone photos), [`pages`] (page files and previews), [`import`] (the page-by-page
//! pipeline), [`crop`], [`cache`] and [`enhance`] (page enhancement; the job that runs it is in `jobs`).

use std::path::{Path, PathBuf};

pub mod cache;
pub mod crop;
pub mod enhance;
pub mod formats;
pub mod heif;
pub mod import;
pub mod limits;
pub mod pages;
pub mod pdf;
pub mod resize;
pub mod subprocess;

pub use crop::{clamp_bbox, crop_to_file, pixel_rect};
pub use formats::decode_scan;
pub use import::{
    import_scan, import_scan_with, ImportOptions, ImportedPage, ScanImport, ScanSource,
};
pub use limits::{MAX_FILE_BYTES, MAX_PAGES, MAX_PIXELS};
pub use pages::{load_upright, PREVIEW_MAX_SIDE, THUMB_MAX_SIDE};

/// What went wrong with a scan, said so a teacher knows which file and why.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    /// The file itself is the problem: unreadable, damaged, too big, not a scan.
    #[error("{file}: {reason}")]
    BadInput { file: String, reason: String },
    /// The box the teacher drew cannot be cut from the page.
    #[error("the box {0}")]
    BadBox(String),
    /// The data folder could not be written or read.
    #[error("could not write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An image could not be encoded (out of disk, most likely).
    #[error("could not save an image: {0}")]
    Encode(String),
    /// A helper program (poppler, libheif) is missing or failed on a file that looked fine.
    #[error("{0}")]
    Tool(String),
    /// The database refused a page update (enhancement).
    #[error("could not update the pages in the database: {0}")]
    Store(String),
}

pub(crate) fn bad(file: &str, reason: impl Into<String>) -> ImagingError {
    ImagingError::BadInput {
        file: file.to_string(),
        reason: reason.into(),
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ImagingError + '_ {
    move |source| ImagingError::Io {
        path: path.to_path_buf(),
        source,
    }
}
