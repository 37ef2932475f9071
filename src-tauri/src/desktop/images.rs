//! Serves page previews, page thumbnails and answer crops to the webview by id
//! (`gdimg://localhost/page/12/<rev>`, `…/thumb/12/<rev>`, `…/crop/7`), never by path, so the
//! UI cannot read arbitrary files.
//!
//! A page's files are replaced when it is enhanced, under the same page id: its URLs carry
//! the page's `rev` (from `SubmissionDetail.pages` and `SubmissionView.first_page_rev`),
//! which changes with the files. Only a URL naming the current rev is cached as
//! `immutable`; any other is answered with the current image and `no-store`, so a replaced
//! preview is never shown from the webview's cache.

use std::sync::Arc;

use tauri::http::{header, Request, Response, StatusCode};
use tauri::UriSchemeResponder;

use crate::workspace::Workspace;

/// The custom protocol's scheme; the CSP allows images from it.
pub const SCHEME: &str = "gdimg";

/// Answers one image request on a blocking thread (file reads and a DB lookup).
pub fn serve(workspace: Arc<Workspace>, request: Request<Vec<u8>>, responder: UriSchemeResponder) {
    let path = percent_encoding::percent_decode_str(request.uri().path())
        .decode_utf8_lossy()
        .trim_start_matches('/')
        .to_string();
    tauri::async_runtime::spawn_blocking(move || {
        responder.respond(respond(&workspace, &path));
    });
}

/// The response for `kind/id[/rev]`.
pub(crate) fn respond(workspace: &Workspace, path: &str) -> Response<Vec<u8>> {
    let mut parts = path.splitn(3, '/');
    let (kind, id, asked_rev) = (parts.next(), parts.next(), parts.next());
    let found = kind
        .zip(id.and_then(|id| id.parse().ok()))
        .and_then(|(kind, id)| workspace.image_file(kind, id))
        .and_then(|image| {
            let bytes = std::fs::read(&image.path).ok()?;
            Some((bytes, image))
        });
    let response = match found {
        Some((bytes, image)) => {
            // Immutable only when the URL names the files served: a crop never changes
            // under its id; a page's files do (enhancement), and then its rev changes.
            let current = match &image.rev {
                None => true,
                Some(rev) => asked_rev == Some(rev.as_str()),
            };
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, image.mime_type)
                .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .header(
                    header::CACHE_CONTROL,
                    if current {
                        "max-age=31536000, immutable"
                    } else {
                        "no-store"
                    },
                )
                .body(bytes)
        }
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CONTENT_TYPE, "text/plain")
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::CACHE_CONTROL, "no-store")
            .body(b"not found".to_vec()),
    };
    response.unwrap_or_else(|_| Response::new(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::QuestionInput;

    fn header(response: &Response<Vec<u8>>, name: header::HeaderName) -> &str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_enhanced_page_is_never_served_from_an_immutable_cache_under_its_old_url() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(&dir.path().join("data")).unwrap();
        let exam = ws
            .create_exam("E".into(), vec![QuestionInput::plain("Q1", "p", 1.0)])
            .await
            .unwrap();
        // A phone photo from afar (about 97 dpi for A4): it waits for its enhancement.
        let scan = dir.path().join("far.png");
        image::RgbImage::from_fn(800, 1130, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, 200])
        })
        .save(&scan)
        .unwrap();
        let sub = ws.import_path(exam, &scan).await.unwrap().submission_id;
        let page = ws.submission_detail(sub).await.unwrap().pages[0].clone();
        let old_url = format!("page/{}/{}", page.page.id, page.rev);
        let before = respond(&ws, &old_url);
        assert_eq!(before.status(), StatusCode::OK);
        assert_eq!(header(&before, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(header(&before, header::CACHE_CONTROL).contains("immutable"));

        crate::jobs::upscale_submission(&ws, sub).await.unwrap();

        let after = ws.submission_detail(sub).await.unwrap().pages[0].clone();
        assert_ne!(after.rev, page.rev, "the enhanced page has a new URL");
        assert!(after.page.width > page.page.width, "it was upscaled");
        let snapshot = ws.snapshot().await.unwrap();
        assert_eq!(
            snapshot.submissions[0].first_page_rev.as_deref(),
            Some(after.rev.as_str()),
            "the list's thumbnail URL changes too"
        );
        // The old URL gets the new image, and nothing may keep it.
        let stale = respond(&ws, &old_url);
        assert_eq!(header(&stale, header::CACHE_CONTROL), "no-store");
        assert_ne!(stale.body(), before.body());
        let fresh = respond(&ws, &format!("page/{}/{}", after.page.id, after.rev));
        assert!(header(&fresh, header::CACHE_CONTROL).contains("immutable"));
        assert_eq!(fresh.body(), stale.body());
        let thumb = respond(&ws, &format!("thumb/{}/{}", after.page.id, after.rev));
        assert!(header(&thumb, header::CACHE_CONTROL).contains("immutable"));
        assert_eq!(header(&thumb, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        // No rev at all: served, never cached.
        let bare = respond(&ws, &format!("page/{}", after.page.id));
        assert_eq!(header(&bare, header::CACHE_CONTROL), "no-store");
        // Unknown ids and kinds: a plain 404, not sniffed either.
        for path in ["page/999999/x", "file/1", "../etc/passwd", ""] {
            let missing = respond(&ws, path);
            assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{path}");
            assert_eq!(header(&missing, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        }
    }
}
