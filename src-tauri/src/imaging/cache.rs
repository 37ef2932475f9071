//! A small cache of decoded pages, so a teacher drawing several boxes on one page pays for
//! its decode once. Keyed by path, size and modification time: an enhanced page (new file)
//! is never served from a stale entry. Bounded by pixel bytes, a few pages at most.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use image::DynamicImage;

use super::pages::load_upright;
use super::{io, ImagingError};

/// At most this many bytes of decoded pixels stay cached (about four 300-dpi RGB pages).
pub const CACHE_BYTES: usize = 120 * 1024 * 1024;

type Key = (PathBuf, u64, Option<SystemTime>);

struct Lru {
    /// Most recently used last.
    entries: Vec<(Key, Arc<DynamicImage>)>,
}

fn cache() -> &'static Mutex<Lru> {
    static CACHE: OnceLock<Mutex<Lru>> = OnceLock::new();
    CACHE.get_or_init(|| {
        Mutex::new(Lru {
            entries: Vec::new(),
        })
    })
}

fn key(path: &Path) -> Result<Key, ImagingError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    Ok((path.to_path_buf(), meta.len(), meta.modified().ok()))
}

/// The upright decoded page at `path`, from the cache or decoded now (and cached).
pub fn page(path: &Path) -> Result<Arc<DynamicImage>, ImagingError> {
    let key = key(path)?;
    {
        let mut lru = cache().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = lru.entries.iter().position(|(k, _)| *k == key) {
            let entry = lru.entries.remove(at);
            let image = entry.1.clone();
            lru.entries.push(entry);
            tracing::debug!(path = %path.display(), "page cache hit");
            return Ok(image);
        }
    }
    // Decode outside the lock: other pages stay available meanwhile.
    let image = Arc::new(load_upright(path)?);
    let mut lru = cache().lock().unwrap_or_else(|p| p.into_inner());
    lru.entries.retain(|(k, _)| k.0 != key.0);
    lru.entries.push((key, image.clone()));
    let mut total: usize = lru.entries.iter().map(|(_, i)| i.as_bytes().len()).sum();
    while total > CACHE_BYTES && lru.entries.len() > 1 {
        let (_, evicted) = lru.entries.remove(0);
        total -= evicted.as_bytes().len();
    }
    Ok(image)
}

/// Forgets a page (its file is being replaced or deleted).
pub fn forget(path: &Path) {
    let mut lru = cache().lock().unwrap_or_else(|p| p.into_inner());
    lru.entries.retain(|(k, _)| k.0 != path);
}

/// How many pages are cached (for tests and logs).
pub fn len() -> usize {
    cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entries
        .len()
}
