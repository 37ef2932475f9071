//! The XLSX workbook: a sheet per view — `Gradebook` (wide), `Answers` (long) and
//! `Statistics` (per question). Text cells are written as strings (a spreadsheet never
//! evaluates those) and pass the same guard as every format; numbers are numbers.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::cells::guard;
use super::class::ClassBook;
use super::gradebooks::{long, wide, Row};
use crate::stats::exam_stats;

/// Writes the workbook to `path`.
pub fn write(book: &ClassBook, path: &Path) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let numeric_from = 3 + book.questions.len() + 2;
    sheet(
        workbook.add_worksheet(),
        "Gradebook",
        &wide(book),
        &bold,
        |col| (3..numeric_from).contains(&col),
    )?;
    sheet(
        workbook.add_worksheet(),
        "Answers",
        &long(book),
        &bold,
        |col| [0, 5, 6, 7, 8].contains(&col),
    )?;
    sheet(
        workbook.add_worksheet(),
        "Statistics",
        &statistics(book),
        &bold,
        |col| col >= 1,
    )?;
    workbook.save(path)
}

/// The per-question figures as rows, for the Statistics sheet.
fn statistics(book: &ClassBook) -> Vec<Row> {
    let stats = exam_stats(&book.stats_data());
    let header = [
        "question",
        "max_points",
        "n",
        "mean",
        "median",
        "sd",
        "facility",
        "discrimination",
        "blank_share",
        "ai_n",
        "ai_exact",
        "ai_within_one",
        "ai_mae",
        "ai_qwk",
    ];
    let f = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Row>()];
    for q in &stats.questions {
        rows.push(vec![
            q.label.clone(),
            q.max_points.to_string(),
            q.n.to_string(),
            f(q.mean),
            f(q.median),
            f(q.sd),
            f(q.facility),
            f(q.discrimination),
            f(q.blank_share),
            q.agreement.n.to_string(),
            f(q.agreement.exact),
            f(q.agreement.within_one),
            f(q.agreement.mae),
            f(q.agreement.qwk),
        ]);
    }
    rows.push(vec![
        "exam".into(),
        stats.exam.max_points.to_string(),
        stats.exam.n.to_string(),
        f(stats.exam.mean),
        String::new(),
        f(stats.exam.sd),
        "alpha".into(),
        f(stats.exam.alpha),
    ]);
    rows
}

/// Fills one sheet: the first row bold, numeric columns as numbers where they parse.
fn sheet(
    ws: &mut Worksheet,
    name: &str,
    rows: &[Row],
    bold: &Format,
    numeric: impl Fn(usize) -> bool,
) -> Result<(), XlsxError> {
    ws.set_name(name)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r32, c16) = (r as u32, c as u16);
            if r == 0 {
                ws.write_string_with_format(r32, c16, guard(cell).as_ref(), bold)?;
            } else if let (true, Ok(x)) = (numeric(c), cell.parse::<f64>()) {
                ws.write_number(r32, c16, x)?;
            } else if !cell.is_empty() {
                ws.write_string(r32, c16, guard(cell).as_ref())?;
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofit();
    Ok(())
}
