//! Hand-back figures for a class of 200 (never fails on time): the time to export each
//! gradebook format, to write the 200 feedback PDFs and the class PDF, and to compute the
//! statistics, on the fixture class of tests/fixtures/handback_class.rs (three questions,
//! a crop per answer).
//!
//! Run with `make bench` (or `cargo bench --bench handback`).

#[path = "../../tests/fixtures/handback_class.rs"]
mod class_fixture;

use std::time::Instant;

use gradedesk::export::Format;

const STUDENTS: usize = 200;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (ws, exam, _) = class_fixture::graded_class(dir.path(), STUDENTS).await;
    println!(
        "hand-back: a class of {STUDENTS} students, 3 questions ({} answers), built in {:.1} s",
        STUDENTS * 3 - 1,
        started.elapsed().as_secs_f64()
    );
    for format in Format::ALL {
        let out = dir
            .path()
            .join(format!("out-{}.{}", format.name(), format.extension()));
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            ws.export(exam, format, &out).await.unwrap();
            best = best.min(t.elapsed().as_secs_f64());
        }
        let size = out.metadata().unwrap().len();
        println!(
            "  export {:<10} {:>8.1} ms  ({} KiB, best of 5, reading the class included)",
            format.name(),
            best * 1000.0,
            size / 1024
        );
    }
    let t = Instant::now();
    let stats = ws.exam_stats(exam).await.unwrap();
    println!(
        "  statistics        {:>8.1} ms  (alpha {:?})",
        t.elapsed().as_secs_f64() * 1000.0,
        stats.exam.alpha.map(|a| (a * 100.0).round() / 100.0)
    );
    let folder = dir.path().join("feedback");
    let t = Instant::now();
    let report = ws.feedback_pdfs(exam, &folder).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    let total: u64 = report
        .files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let class = std::fs::metadata(&report.class_pdf).unwrap().len();
    println!(
        "  feedback PDFs     {:>8.1} s   ({} student PDFs, {} KiB in all, {:.1} ms each; class PDF {} KiB)",
        secs,
        report.students,
        total / 1024,
        secs * 1000.0 / report.students as f64,
        class / 1024
    );
}
