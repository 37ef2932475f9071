//! Serves page previews, page thumbnails and answer crops to the webview by id
//! (`gdimg://localhost/page/12`, `…/thumb/12`, `…/crop/7`), never by path, so the UI cannot
//! read arbitrary files.

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

fn respond(workspace: &Workspace, path: &str) -> Response<Vec<u8>> {
    let found = path
        .split_once('/')
        .and_then(|(kind, id)| Some((kind, id.parse().ok()?)))
        .and_then(|(kind, id)| workspace.image_file(kind, id))
        .and_then(|image| {
            std::fs::read(&image.path)
                .ok()
                .map(|bytes| (bytes, image.mime_type))
        });
    let response = match found {
        Some((bytes, mime)) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, mime)
            .header(header::CACHE_CONTROL, "max-age=31536000, immutable")
            .body(bytes),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(b"not found".to_vec()),
    };
    response.unwrap_or_else(|_| Response::new(Vec::new()))
}
