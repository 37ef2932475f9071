//! A page's files: the page itself (the original JPEG/PNG bytes when they are exactly the
//! page, else a lossless PNG), a preview the window shows (never the full original) and a
//! thumbnail for lists. Every file is written to a temporary name and renamed, so a crash
//! never leaves a half-written image under a real name.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, GenericImageView, ImageFormat};

use super::formats::{decode_single, sniff, Kind};
use super::resize::shrink_to_fit;
use super::{bad, io, ImagingError};

/// Longest side of the preview the window shows: sharp on a large screen, quick to load.
pub const PREVIEW_MAX_SIDE: u32 = 2000;
/// Longest side of the thumbnail in submission lists.
pub const THUMB_MAX_SIDE: u32 = 256;

/// The files of one stored page and its pixel size.
#[derive(Debug, Clone)]
pub struct StoredFiles {
    pub path: PathBuf,
    pub preview_path: PathBuf,
    pub thumb_path: PathBuf,
    pub width: u32,
    pub height: u32,
}

/// Writes a page, its preview and its thumbnail into `dir` as `<stem>.*`. `original` is
/// the file's own bytes when they decode to exactly `image` (kept, no re-encoding).
pub fn write_page(
    dir: &Path,
    stem: &str,
    image: &DynamicImage,
    original: Option<(&[u8], ImageFormat)>,
) -> Result<StoredFiles, ImagingError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (width, height) = image.dimensions();
    let path = match original {
        Some((bytes, format)) => {
            let ext = if format == ImageFormat::Jpeg {
                "jpg"
            } else {
                "png"
            };
            let path = dir.join(format!("{stem}.{ext}"));
            write_atomically(&path, bytes)?;
            path
        }
        None => {
            let path = dir.join(format!("{stem}.png"));
            save(image, &path, ImageFormat::Png)?;
            path
        }
    };
    let (preview_path, thumb_path) = write_previews(dir, stem, image)?;
    Ok(StoredFiles {
        path,
        preview_path,
        thumb_path,
        width,
        height,
    })
}

/// Writes `<stem>.preview.jpg` (≤ [`PREVIEW_MAX_SIDE`]) and `<stem>.thumb.jpg`.
pub fn write_previews(
    dir: &Path,
    stem: &str,
    image: &DynamicImage,
) -> Result<(PathBuf, PathBuf), ImagingError> {
    let preview = shrink_to_fit(image, PREVIEW_MAX_SIDE);
    let preview_path = dir.join(format!("{stem}.preview.jpg"));
    save(&preview, &preview_path, ImageFormat::Jpeg)?;
    let thumb = shrink_to_fit(&preview, THUMB_MAX_SIDE);
    let thumb_path = dir.join(format!("{stem}.thumb.jpg"));
    save(&thumb, &thumb_path, ImageFormat::Jpeg)?;
    Ok((preview_path, thumb_path))
}

/// Writes bytes under a temporary name, then renames: readers see all or nothing.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ImagingError> {
    let tmp = tmp_name(path);
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Encodes an image to `path` atomically (temporary name, then rename).
pub fn save(image: &DynamicImage, path: &Path, format: ImageFormat) -> Result<(), ImagingError> {
    // save_with_format is not generic: its encoder runs at the image crate's optimisation.
    encode_atomically(path, |tmp| {
        image
            .save_with_format(tmp, format)
            .map_err(|e| e.to_string())
    })
}

/// Runs `encode` on a temporary name beside `path`, then renames it into place: readers
/// see all or nothing, and a failed encode leaves no file behind.
pub(super) fn encode_atomically(
    path: &Path,
    encode: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), ImagingError> {
    let tmp = tmp_name(path);
    if let Err(reason) = encode(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(ImagingError::Encode(reason));
    }
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// The temporary name a file is written under before it is renamed into place.
fn tmp_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Decodes a stored page (always a JPEG or PNG) upright, as the teacher saw it.
pub fn load_upright(path: &Path) -> Result<DynamicImage, ImagingError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(io(path))?;
    let format = match sniff(&name, &bytes)? {
        Kind::Jpeg => ImageFormat::Jpeg,
        Kind::Png => ImageFormat::Png,
        _ => return Err(bad(&name, "is not a stored page (JPEG or PNG)")),
    };
    Ok(decode_single(&name, &bytes, format)?.image)
}

/// Encodes an image as PNG in memory (tests and the bench compare bytes with it).
pub fn png_bytes(image: &DynamicImage) -> Result<Vec<u8>, ImagingError> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|e| ImagingError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}
