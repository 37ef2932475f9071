//! iPhone photos (HEIC/HEIF) through Debian's libheif tools: `heif-info` reads the declared
//! size (so a bomb is refused before decoding) and `heif-convert` decodes the primary image
//! to a lossless PNG, with the file's rotation and mirroring applied.

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use image::ImageFormat;

use super::formats::{decode_single, DecodedPage};
use super::limits::check_dimensions;
use super::subprocess::{file_arg, run, Failure};
use super::{bad, io, ImagingError};

const TIMEOUT: Duration = Duration::from_secs(120);

fn tool_error(name: &str, program: &str, failure: Failure) -> ImagingError {
    match failure {
        Failure::Missing(p) => ImagingError::Tool(format!(
            "{name}: HEIC photos need {p} (Debian package libheif-examples); install it or export the photo as JPEG"
        )),
        Failure::TimedOut => bad(name, format!("took too long to decode ({program} was stopped)")),
        Failure::Failed(msg) => bad(name, format!("is a damaged HEIC photo ({msg})")),
        Failure::Other(e) => e,
    }
}

/// The declared size of the primary image, from `heif-info`.
fn primary_size(name: &str, path: &Path) -> Result<(u32, u32), ImagingError> {
    let path = file_arg(path).map_err(io(path))?;
    let out = run("heif-info", &[OsStr::new("--"), path.as_os_str()], TIMEOUT)
        .map_err(|f| tool_error(name, "heif-info", f))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "image: 3024x4032 (id=49), primary"
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("image:") && l.contains("primary"))
        .or_else(|| text.lines().find(|l| l.trim_start().starts_with("image:")))
        .ok_or_else(|| bad(name, "has no image inside"))?;
    let size = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.split_once('x'))
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .ok_or_else(|| bad(name, "has an image of unreadable size"))?;
    Ok(size)
}

/// Decodes the primary image of a HEIC file at `path`, using `scratch` for the PNG.
pub fn decode(name: &str, path: &Path, scratch: &Path) -> Result<DecodedPage, ImagingError> {
    let (w, h) = primary_size(name, path)?;
    check_dimensions(name, w, h)?;
    std::fs::create_dir_all(scratch).map_err(io(scratch))?;
    let path = file_arg(path).map_err(io(path))?;
    let out = file_arg(&scratch.join("heif.png")).map_err(io(scratch))?;
    run(
        "heif-convert",
        &[
            OsStr::new("-q"),
            OsStr::new("100"),
            OsStr::new("--"),
            path.as_os_str(),
            out.as_os_str(),
        ],
        TIMEOUT,
    )
    .map_err(|f| tool_error(name, "heif-convert", f))?;
    // With several top-level images heif-convert numbers its outputs; the first is primary.
    let produced = [out.clone(), out.with_file_name("heif-1.png")]
        .into_iter()
        .find(|p| p.exists())
        .ok_or_else(|| bad(name, "could not be decoded (no image came out)"))?;
    let bytes = std::fs::read(&produced).map_err(io(&produced))?;
    for entry in std::fs::read_dir(scratch).map_err(io(scratch))?.flatten() {
        let file = entry.file_name();
        if file.to_string_lossy().starts_with("heif") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let mut page = decode_single(name, &bytes, ImageFormat::Png)?;
    page.format = ImageFormat::Png;
    page.original_is_page = false;
    Ok(page)
}
