//! Dropped files and folders → the scans to import, in the order the teacher sees them.

use std::path::{Path, PathBuf};

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
    fn natural_order_puts_page2_before_page10() {
        let mut names = vec!["p10", "P2", "p1", "a"];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(names, ["a", "p1", "P2", "p10"]);
    }
}
