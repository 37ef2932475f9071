//! The window: the Tauri shell around the core. Commands are thin (parse, call the core,
//! map the error); the only module that knows Tauri exists.

mod class_commands;
mod commands;
mod images;
mod roster_commands;
mod rubric_commands;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, DragDropEvent, Emitter, Manager, RunEvent, WebviewEvent, WindowEvent};
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, PoolOptions};
use crate::events::{Event, EventBody, EventSink};
use crate::settings::KeyStore;
use crate::store::now_ms;
use crate::workspace::{DroppedPaths, Workspace};

/// The window's label (tauri.conf.json); the capability is granted to it alone.
pub const MAIN_WINDOW: &str = "main";
/// The one event name the UI listens to; the payload is a `seq`-numbered [`Event`].
pub const EVENT_NAME: &str = "gradedesk:event";
/// How often the core says it is alive; the UI shows "Reconnecting" after two silent periods.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// What every command reaches: the running core.
pub type Desk = Arc<Engine>;

struct TauriSink(AppHandle);

impl EventSink for TauriSink {
    fn deliver(&self, event: &Event) {
        if let Err(e) = self.0.emit(EVENT_NAME, event) {
            tracing::warn!(error = %e, "could not send an event to the window");
        }
    }
}

/// Opens the window on `data_dir` and runs until it is closed.
pub fn run(data_dir: PathBuf) -> ExitCode {
    let _guard = crate::logging::init(&data_dir.join("logs"), true);
    let workspace = match Workspace::open(&data_dir) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let engine = tauri::async_runtime::block_on(Engine::start(
        workspace.clone(),
        KeyStore::default_location(),
        PoolOptions::default(),
    ));
    let engine = match engine {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: could not set up grading: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    let image_workspace = workspace.clone();
    let app = tauri::Builder::default()
        // Desktop notifications when a batch finishes; without a notification service
        // (no D-Bus session) showing one fails in the background and the UI's toast remains.
        .plugin(tauri_plugin_notification::init())
        .manage::<Desk>(engine)
        .manage(Arc::new(DroppedPaths::default()))
        // What the window reports as dropped is the only set of paths `import_paths` takes
        // from the page (a webview window reports drops as a window event; a plain webview
        // as a webview event: both are heard).
        .on_window_event(|window, event| {
            if let WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                if window.label() == MAIN_WINDOW {
                    window.state::<Arc<DroppedPaths>>().record(paths);
                }
            }
        })
        .on_webview_event(|webview, event| {
            if let WebviewEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                if webview.label() == MAIN_WINDOW {
                    webview.state::<Arc<DroppedPaths>>().record(paths);
                }
            }
        })
        .on_page_load(|webview, payload| {
            if payload.event() == PageLoadEvent::Finished {
                tracing::info!(window = webview.label(), url = %payload.url(), "page loaded");
            }
        })
        .register_asynchronous_uri_scheme_protocol(
            images::SCHEME,
            move |_ctx, request, responder| {
                images::serve(image_workspace.clone(), request, responder);
            },
        )
        .invoke_handler(tauri::generate_handler![
            commands::snapshot,
            commands::list_exams,
            commands::create_exam,
            commands::import_file,
            commands::get_submission,
            commands::create_item,
            commands::desk_snapshot,
            commands::queue_status,
            commands::pause_grading,
            commands::resume_grading,
            commands::cancel_item,
            commands::delete_item,
            commands::recrop_item,
            commands::restore_item,
            commands::prioritize_item,
            commands::dead_jobs,
            commands::retry_failed,
            commands::get_settings,
            commands::save_settings,
            commands::set_api_key,
            commands::test_api_key,
            commands::estimate,
            commands::review_items,
            commands::override_score,
            commands::rename_student,
            commands::update_exam,
            commands::add_questions,
            commands::update_question,
            commands::delete_question,
            commands::import_paths,
            #[cfg(feature = "e2e")]
            commands::e2e_probe_events,
            commands::export_gradebook,
            commands::export_feedback,
            commands::exam_stats,
            commands::export_folder,
            class_commands::upload_file,
            roster_commands::import_roster,
            roster_commands::roster,
            roster_commands::match_rows,
            roster_commands::set_match,
            rubric_commands::set_answer_items,
            rubric_commands::accept_answer,
            rubric_commands::set_transcription,
            rubric_commands::review_routing,
            rubric_commands::set_review_policy,
            rubric_commands::regrade_offer,
            rubric_commands::regrade_question,
            class_commands::set_template,
            class_commands::set_template_from_submission,
            class_commands::template_view,
            class_commands::add_region,
            class_commands::region_impact,
            class_commands::move_region,
            class_commands::delete_region,
            class_commands::import_class,
            class_commands::import_class_paths,
            class_commands::split_review,
            class_commands::set_page_aside,
            class_commands::place_page,
            class_commands::move_page,
            class_commands::split_student,
            class_commands::merge_students,
            class_commands::confirm_split,
            class_commands::class_items,
            class_commands::shift_alignment,
            class_commands::add_outside_writing,
            class_commands::turn_page,
            class_commands::dismiss_outside_writing,
            commands::batch_overview,
            commands::set_grading_mode,
            commands::batch_estimate,
            commands::send_batch,
            commands::cancel_batch,
            #[cfg(feature = "e2e")]
            commands::e2e_drop_paths,
        ])
        .setup({
            let shutdown = shutdown.clone();
            move |app| {
                let desk = app.state::<Desk>();
                desk.workspace()
                    .events
                    .add_sink(Arc::new(TauriSink(app.handle().clone())));
                let engine = Desk::clone(&desk);
                let pool_stop = shutdown.clone();
                tauri::async_runtime::spawn(async move { engine.run(pool_stop).await });
                let events = desk.workspace().events.clone();
                let stop = shutdown.clone();
                tauri::async_runtime::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(HEARTBEAT) => {}
                        }
                        events.emit(EventBody::Heartbeat { at_ms: now_ms() });
                    }
                });
                // Production: assets served from the binary (custom-protocol); the web
                // inspector exists only in debug builds (tauri's `devtools` feature is off).
                tracing::info!(
                    data_dir = %desk.workspace().data_dir.display(),
                    production = !tauri::is_dev(),
                    devtools = cfg!(debug_assertions),
                    "window opened"
                );
                Ok(())
            }
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: the window could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    app.run(move |_handle, event| {
        if let RunEvent::Exit = event {
            shutdown.cancel();
        }
    });
    ExitCode::SUCCESS
}
