//! GradeDesk's core: grading scanned, handwritten exams through a durable job queue.
//! Everything but `desktop` runs the same under the window, the CLI and the tests.

pub mod cli;
pub mod clock;
pub mod desktop;
pub mod events;
pub mod exams;
pub mod export;
pub mod grading;
pub mod imaging;
pub mod logging;
pub mod pacing;
pub mod queue;
pub mod recorder;
pub mod settings;
pub mod store;
pub mod worker;
pub mod workspace;
