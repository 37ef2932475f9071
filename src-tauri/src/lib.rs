//! GradeDesk's core: grading scanned, handwritten exams through a durable job queue.
//!
//! # A tour, from the ground up
//!
//! Each layer uses only the layers below it; no module imports one that imports it back
//! (`tests/layering.rs` checks this on every `cargo test`).
//!
//! - **Ground.** [`store`] opens the SQLite file (WAL, migrations, one connection per
//!   process); [`clock`] is the injectable time the queue and the pacing read; [`logging`]
//!   sets up `tracing`.
//! - **Domain.** [`exams`] is the teacher's data (exams, questions, submissions, pages,
//!   answer boxes, grades, overrides), SQL per table in one place. [`imaging`] turns any
//!   scan into pages and cuts answers out of them. [`grading`] talks to the model (the
//!   `Grader` trait, the Gemini and OpenAI-compatible clients, prompt, schema, prices).
//!   [`queue`] is the durable job queue and its retry policy; [`pacing`] is the gate every
//!   provider call passes (rate limits, cool-downs, offline). [`settings`] holds the
//!   non-secret settings and the API key's store. [`events`] numbers what the core tells
//!   its front ends. [`export`] writes gradebooks (CSV, the LMS imports, XLSX) and
//!   the students' feedback PDFs; [`stats`] computes the exam's statistics, pure functions
//!   over plain vectors.
//! - **Errors.** [`error`] is the one error type at the boundary, with the stable code the
//!   UI branches on and the CLI's exit status comes from.
//! - **Service.** [`workspace`] is one opened data dir: every operation both front ends
//!   call, and the events they cause. [`worker`] is the pool that runs jobs, [`recorder`]
//!   its group commit, [`jobs`] the job bodies (grade an answer, enhance pages).
//!   [`engine`] is a workspace being graded: the pool, the grader the settings choose and
//!   the key, built one way for the window and for `gradedesk worker`.
//! - **Front ends.** [`cli`] (the `gradedesk` binary) and [`desktop`] (the window, the
//!   only module that imports tauri) are thin: parse, call the core, map the error.
//!   [`wire`] lists the types that cross IPC; they are generated into TypeScript.
//!
//! The test stand-in for Gemini is a crate of its own (`src-tauri/fake-gemini`), a dev
//! dependency: the app never links it.

pub mod batching;
pub mod cli;
pub mod clock;
pub mod desktop;
pub mod engine;
pub mod error;
pub mod events;
pub mod exams;
pub mod export;
pub mod grading;
pub mod imaging;
pub mod jobs;
pub mod logging;
pub mod pacing;
pub mod queue;
pub mod recorder;
pub mod roster;
pub mod rubric;
pub mod settings;
pub mod split;
pub mod stats;
pub mod store;
pub mod vision;
pub mod wire;
pub mod worker;
pub mod workspace;
