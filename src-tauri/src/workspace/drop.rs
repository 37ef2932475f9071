//! Dropped files and folders → the scans to import, in the order the teacher sees them.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use ts_rs::TS;

use super::ImportResult;

/// A file that was left out of a drop, and why (in a sentence for the teacher).
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct FileNote {
    pub file: String,
    pub reason: String,
}

/// What a drop of files and folders did, file by file.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct DropReport {
    pub imported: Vec<ImportResult>,
    /// Not scans (hidden files, other kinds of files, unreadable folders): not tried.
    pub skipped: Vec<FileNote>,
    /// Scans that were tried and refused (damaged, too large, …).
    pub failed: Vec<FileNote>,
}

/// The scans found under dropped paths, in import order, and what was left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpandedPaths {
    pub scans: Vec<PathBuf>,
    pub skipped: Vec<FileNote>,
}

/// The paths the window's own drag-and-drop event reported: the only paths a page may ask
/// `import_paths` to read. Kept canonical (absolute, links resolved), so a path is the
/// same file however the page spells it; each is handed out once.
#[derive(Debug, Default)]
pub struct DroppedPaths(Mutex<VecDeque<PathBuf>>);

/// How many dropped paths are remembered (the oldest are forgotten first).
const REMEMBERED_DROPS: usize = 4096;

impl DroppedPaths {
    /// Records what the window reported as dropped (paths that no longer exist are left out).
    pub fn record(&self, paths: &[PathBuf]) {
        let mut known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for path in paths {
            let Ok(canonical) = std::fs::canonicalize(path) else {
                continue;
            };
            known.retain(|p| p != &canonical);
            known.push_back(canonical);
            while known.len() > REMEMBERED_DROPS {
                known.pop_front();
            }
        }
    }

    /// The canonical form of each asked path, all of which must have been dropped on the
    /// window (and not taken yet); they are then forgotten. Nothing is taken when any of
    /// them was not dropped.
    pub fn take(&self, asked: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
        let mut known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(asked.len());
        for path in asked {
            let canonical = path
                .is_absolute()
                .then(|| std::fs::canonicalize(path).ok())
                .flatten()
                .filter(|c| known.contains(c));
            match canonical {
                Some(c) => out.push(c),
                None => {
                    return Err(format!(
                        "{} was not dropped on the window: only files and folders dropped on GradeDesk are imported by path",
                        display_name(path)
                    ))
                }
            }
        }
        known.retain(|p| !out.contains(p));
        Ok(out)
    }
}

/// The file name endings import understands (the content is checked again on import).
pub const SCAN_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "tif", "tiff", "webp", "heic", "heif", "pdf",
];

/// How deep a dropped folder is searched: deep enough for "class/student/page" trees, not
/// so deep that a drop of a home folder walks the whole disk.
const MAX_DEPTH: usize = 8;

/// Turns dropped paths into the scans to import: files are kept when their ending is a scan
/// format; folders are walked recursively, each folder's entries in name order, so a class
/// folder imports in the order the teacher sees it. Hidden files and folders (".name") are
/// skipped silently when inside a folder and reported when dropped themselves; other files
/// are reported as skipped, one note each.
pub fn expand_scan_paths(paths: &[PathBuf]) -> ExpandedPaths {
    let mut out = ExpandedPaths::default();
    for path in paths {
        expand_one(path, 0, true, &mut out);
    }
    out
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

pub(super) fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn expand_one(path: &Path, depth: usize, dropped: bool, out: &mut ExpandedPaths) {
    let skip = |out: &mut ExpandedPaths, reason: &str| {
        out.skipped.push(FileNote {
            file: display_name(path),
            reason: reason.into(),
        })
    };
    if is_hidden(path) {
        if dropped {
            skip(out, "hidden files are not imported");
        }
        return;
    }
    // Symbolic links are followed for what was dropped, not inside folders (no loops).
    let meta = if dropped {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    };
    let meta = match meta {
        Ok(m) => m,
        Err(_) => return skip(out, "it could not be read"),
    };
    if meta.is_dir() {
        if depth >= MAX_DEPTH {
            return skip(out, "the folder is nested too deep; drop it on its own");
        }
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(_) => return skip(out, "the folder could not be opened"),
        };
        entries.sort_by_key(|p| natural_key(&display_name(p)));
        for entry in entries {
            expand_one(&entry, depth + 1, false, out);
        }
    } else if meta.is_file() {
        let known = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .is_some_and(|e| SCAN_EXTENSIONS.contains(&e.as_str()));
        if known {
            out.scans.push(path.to_path_buf());
        } else {
            skip(
                out,
                "not a scan (GradeDesk imports JPEG, PNG, TIFF, WebP, HEIC and PDF files)",
            );
        }
    } else {
        skip(out, "not a file or a folder");
    }
}

/// Sorts "page2" before "page10" (and case aside), as a file manager shows names.
fn natural_key(name: &str) -> Vec<(u8, u64, String)> {
    let mut key = Vec::new();
    let mut chars = name.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut digits = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            key.push((0, digits.parse().unwrap_or(u64::MAX), digits));
        } else {
            let mut text = String::new();
            while let Some(&t) = chars.peek().filter(|t| !t.is_ascii_digit()) {
                text.extend(t.to_lowercase());
                chars.next();
            }
            key.push((1, 0, text));
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_folders_expand_recursively_in_name_order_with_a_note_per_skipped_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("class 10B");
        let touch = |rel: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        };
        for f in [
            "page10.jpg",
            "page2.JPG",
            "Ada/scan.pdf",
            "Ada/notes.txt",
            ".hidden.png",
            ".git/objects.png",
            "bob/p1.heic",
            "bob/deeper/p2.tiff",
            "Thumbs.db",
        ] {
            touch(f);
        }
        let loose = dir.path().join("loose.png");
        std::fs::write(&loose, b"x").unwrap();
        let dotted = dir.path().join(".secret.jpg");
        std::fs::write(&dotted, b"x").unwrap();
        let missing = dir.path().join("gone.jpg");

        let got = expand_scan_paths(&[loose.clone(), root.clone(), dotted, missing]);
        let rel: Vec<String> = got
            .scans
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            rel,
            [
                "loose.png",
                "class 10B/Ada/scan.pdf",
                "class 10B/bob/deeper/p2.tiff",
                "class 10B/bob/p1.heic",
                "class 10B/page2.JPG",
                "class 10B/page10.jpg",
            ]
        );
        let skipped: Vec<(&str, &str)> = got
            .skipped
            .iter()
            .map(|n| (n.file.as_str(), n.reason.split(' ').next().unwrap()))
            .collect();
        assert_eq!(
            skipped,
            [
                ("notes.txt", "not"),
                ("Thumbs.db", "not"),
                (".secret.jpg", "hidden"),
                ("gone.jpg", "it"),
            ]
        );
    }

    #[test]
    fn only_paths_the_window_reported_as_dropped_are_taken_once_and_canonical() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let class = root.join("class");
        std::fs::create_dir_all(class.join("sub")).unwrap();
        let secret = root.join("secret.pdf");
        std::fs::write(&secret, b"x").unwrap();
        let dropped = DroppedPaths::default();
        dropped.record(std::slice::from_ref(&class));
        // Any path the page makes up is refused, however it is spelled.
        for asked in [
            secret.clone(),
            class.join("sub"),
            class.join("..").join("secret.pdf"),
            PathBuf::from("class"),
        ] {
            let refused = dropped.take(std::slice::from_ref(&asked)).unwrap_err();
            assert!(refused.contains("was not dropped"), "{asked:?}: {refused}");
        }
        // A mix takes nothing.
        assert!(dropped.take(&[class.clone(), secret.clone()]).is_err());
        // The dropped folder, spelled another way, is taken in canonical form, once.
        let spelled = class.join("sub").join("..");
        assert_eq!(
            dropped.take(&[spelled]).unwrap(),
            std::slice::from_ref(&class)
        );
        assert!(dropped.take(std::slice::from_ref(&class)).is_err());
        #[cfg(unix)]
        {
            let link = root.join("link");
            std::os::unix::fs::symlink(&secret, &link).unwrap();
            dropped.record(std::slice::from_ref(&link));
            assert_eq!(
                dropped.take(std::slice::from_ref(&secret)).unwrap(),
                [secret]
            );
        }
    }

    #[test]
    fn natural_order_puts_page2_before_page10() {
        let mut names = vec!["p10", "P2", "p1", "a"];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(names, ["a", "p1", "P2", "p10"]);
    }
}
