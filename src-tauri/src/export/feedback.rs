//! The feedback PDFs: for each student a page (or more) with their name, total, and for each
//! question the crop of their answer, the score out of the maximum, the rubric's lines, the
//! AI's feedback and the teacher's note; one PDF per student and one for the whole class.
//!
//! Typeset with `krilla` (PDF writing, font subsetting, text shaping) in DejaVu Sans, which
//! is embedded in the binary from Debian's `fonts-dejavu-core` at build time (so the PDFs
//! need no font on the teacher's machine, and accented names render). Line breaking is
//! greedy over the font's advance widths (`ttf-parser`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use serde::Serialize;
use ts_rs::TS;

use super::class::{percent, BookAnswer, BookQuestion, BookStudent, ClassBook};
use crate::error::CoreError;

static SANS: &[u8] = include_bytes!("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
static SANS_BOLD: &[u8] = include_bytes!("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf");

/// What `feedback` wrote.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FeedbackReport {
    /// Students with a PDF.
    pub students: usize,
    /// Each student's PDF, in class order.
    pub files: Vec<String>,
    /// The whole class in one PDF.
    pub class_pdf: String,
}

// A4 in points, and the margins.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 54.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const FOOTER_Y: f32 = PAGE_H - 30.0;
const BOTTOM: f32 = PAGE_H - 52.0;
/// The tallest an answer's crop is drawn.
const CROP_MAX_H: f32 = 230.0;

const INK: (u8, u8, u8) = (28, 32, 38);
const GREY: (u8, u8, u8) = (100, 106, 115);
const ACCENT: (u8, u8, u8) = (37, 99, 235);
const RULE: (u8, u8, u8) = (210, 214, 220);

/// A font with its advance widths, for breaking lines.
struct Face {
    font: Font,
    data: &'static [u8],
    advances: RefCell<HashMap<char, f32>>,
    units_per_em: f32,
}

impl Face {
    fn new(data: &'static [u8]) -> Result<Self, CoreError> {
        let font = Font::new(data.into(), 0)
            .ok_or_else(|| CoreError::Io("the PDF font could not be read".into()))?;
        let units_per_em = font.units_per_em();
        Ok(Face {
            font,
            data,
            advances: RefCell::new(HashMap::new()),
            units_per_em,
        })
    }

    /// The width of `text` at `size` points (kerning aside).
    fn width(&self, text: &str, size: f32) -> f32 {
        let mut cache = self.advances.borrow_mut();
        let mut face = None;
        let mut units = 0.0;
        for c in text.chars() {
            let advance = *cache.entry(c).or_insert_with(|| {
                let face = face.get_or_insert_with(|| ttf_parser::Face::parse(self.data, 0).ok());
                face.as_ref()
                    .and_then(|f| f.glyph_index(c).and_then(|g| f.glyph_hor_advance(g)))
                    .unwrap_or((self.units_per_em * 0.5) as u16) as f32
            });
            units += advance;
        }
        units / self.units_per_em * size
    }
}

/// One thing placed on a page, relative to its block's top.
enum Mark {
    Text {
        x: f32,
        /// The baseline, from the block's top.
        y: f32,
        bold: bool,
        size: f32,
        color: (u8, u8, u8),
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: (u8, u8, u8),
    },
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        image: Image,
    },
}

/// Marks that stay together on one page (unless taller than a page).
struct Block {
    height: f32,
    marks: Vec<Mark>,
}

/// Builds blocks of wrapped text and images.
struct Typesetter {
    regular: Face,
    bold: Face,
}

impl Typesetter {
    fn face(&self, bold: bool) -> &Face {
        if bold {
            &self.bold
        } else {
            &self.regular
        }
    }

    /// Greedy line breaking of a paragraph (newlines kept) into lines of at most `width`.
    fn wrap(&self, text: &str, bold: bool, size: f32, width: f32) -> Vec<String> {
        let face = self.face(bold);
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if face.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line is cut where it overflows.
                let mut piece = String::new();
                for c in word.chars() {
                    piece.push(c);
                    if face.width(&piece, size) > width && piece.chars().count() > 1 {
                        piece.pop();
                        lines.push(std::mem::take(&mut piece));
                        piece.push(c);
                    }
                }
                line = piece;
            }
            lines.push(line);
        }
        lines
    }

    /// A wrapped paragraph as a block, `leading` × size per line.
    fn paragraph(
        &self,
        text: &str,
        bold: bool,
        size: f32,
        color: (u8, u8, u8),
        indent: f32,
    ) -> Block {
        let leading = size * 1.38;
        let mut marks = Vec::new();
        let lines = self.wrap(text, bold, size, CONTENT_W - indent);
        for (i, line) in lines.iter().enumerate() {
            marks.push(Mark::Text {
                x: MARGIN + indent,
                y: size + i as f32 * leading,
                bold,
                size,
                color,
                text: line.clone(),
            });
        }
        Block {
            height: lines.len() as f32 * leading,
            marks,
        }
    }
}

/// Appends `other` below `block`, `gap` points lower.
fn stack(block: &mut Block, other: Block, gap: f32) {
    let top = block.height + gap;
    for mark in other.marks {
        block.marks.push(match mark {
            Mark::Text {
                x,
                y,
                bold,
                size,
                color,
                text,
            } => Mark::Text {
                x,
                y: y + top,
                bold,
                size,
                color,
                text,
            },
            Mark::Rect { x, y, w, h, color } => Mark::Rect {
                x,
                y: y + top,
                w,
                h,
                color,
            },
            Mark::Image { x, y, w, h, image } => Mark::Image {
                x,
                y: y + top,
                w,
                h,
                image,
            },
        });
    }
    block.height = top + other.height;
}

fn empty() -> Block {
    Block {
        height: 0.0,
        marks: Vec::new(),
    }
}

fn points(x: f64) -> String {
    crate::stats::trim(x)
}

/// The crop as an image sized to the content width (never enlarged past 1.5×), or None
/// when the file is missing or not a PNG.
fn crop_image(path: &Path) -> Option<(Image, f32, f32)> {
    let bytes = std::fs::read(path).ok()?;
    let image = Image::from_png(bytes.into(), true).ok()?;
    let (pw, ph) = image.size();
    if pw == 0 || ph == 0 {
        return None;
    }
    // 150 dpi-ish: a pixel is 0.5 pt, then fitted into the box.
    let natural = (pw as f32 * 0.5, ph as f32 * 0.5);
    let scale = (CONTENT_W / natural.0).min(CROP_MAX_H / natural.1).min(1.5);
    Some((image, natural.0 * scale, natural.1 * scale))
}

/// The blocks of one student's feedback: the heading, then one block per question.
fn student_blocks(ts: &Typesetter, book: &ClassBook, student: &BookStudent) -> Vec<Block> {
    let mut heading = ts.paragraph(&book.exam_name, false, 10.0, GREY, 0.0);
    stack(
        &mut heading,
        ts.paragraph(&student.name, true, 22.0, INK, 0.0),
        6.0,
    );
    let total = student.total();
    let max = book.max_total();
    let mut line = format!("Total: {} / {} points", points(total), points(max));
    if let Some(p) = percent(total, max) {
        line.push_str(&format!("  ·  {}%", points(p)));
    }
    if !student.is_complete() {
        line.push_str("  ·  some answers are not graded yet");
    }
    stack(
        &mut heading,
        ts.paragraph(&line, true, 13.0, ACCENT, 0.0),
        6.0,
    );
    let mut rule = empty();
    rule.marks.push(Mark::Rect {
        x: MARGIN,
        y: 0.0,
        w: CONTENT_W,
        h: 1.2,
        color: RULE,
    });
    rule.height = 1.2;
    stack(&mut heading, rule, 10.0);
    heading.height += 8.0;

    let mut blocks = vec![heading];
    for (q, answer) in book.questions.iter().zip(&student.answers) {
        blocks.push(question_block(ts, q, answer.as_ref()));
    }
    blocks
}

fn question_block(ts: &Typesetter, q: &BookQuestion, answer: Option<&BookAnswer>) -> Block {
    let score = match answer.and_then(|a| a.score) {
        Some(s) => format!("{} / {} points", points(s), points(q.max_points)),
        None if answer.is_none() => format!("no answer · 0 / {} points", points(q.max_points)),
        None => format!("not graded yet · – / {} points", points(q.max_points)),
    };
    let mut block = empty();
    // The question's label on the left, its score on the right, on one baseline.
    let size = 13.0;
    let score_w = ts.bold.width(&score, size);
    block.marks.push(Mark::Text {
        x: MARGIN,
        y: size,
        bold: true,
        size,
        color: INK,
        text: q.label.clone(),
    });
    block.marks.push(Mark::Text {
        x: MARGIN + CONTENT_W - score_w,
        y: size,
        bold: true,
        size,
        color: ACCENT,
        text: score,
    });
    block.height = size * 1.38;
    if !q.prompt.trim().is_empty() {
        stack(
            &mut block,
            ts.paragraph(q.prompt.trim(), false, 9.5, GREY, 0.0),
            2.0,
        );
    }
    if let Some(a) = answer {
        match crop_image(&a.crop_path) {
            Some((image, w, h)) => {
                let mut picture = empty();
                picture.marks.push(Mark::Rect {
                    x: MARGIN - 0.75,
                    y: -0.75,
                    w: w + 1.5,
                    h: h + 1.5,
                    color: RULE,
                });
                picture.marks.push(Mark::Image {
                    x: MARGIN,
                    y: 0.0,
                    w,
                    h,
                    image,
                });
                picture.height = h;
                stack(&mut block, picture, 8.0);
            }
            None => stack(
                &mut block,
                ts.paragraph(
                    "(the image of this answer is missing)",
                    false,
                    9.5,
                    GREY,
                    0.0,
                ),
                6.0,
            ),
        }
        // What the score is made of: the items applied, as the core scored them; a question
        // without items shows its rubric lines.
        let rubric = if !q.items.is_empty() {
            Some(("Rubric items applied", '✓', &a.applied))
        } else if !q.rubric_lines.is_empty() {
            Some(("Rubric", '•', &q.rubric_lines))
        } else {
            None
        };
        if let Some((heading, mark, lines)) = rubric {
            stack(&mut block, ts.paragraph(heading, true, 10.0, INK, 0.0), 9.0);
            if lines.is_empty() {
                stack(
                    &mut block,
                    ts.paragraph("none of the rubric's items", false, 9.5, GREY, 8.0),
                    1.0,
                );
            }
            for line in lines {
                stack(
                    &mut block,
                    ts.paragraph(&format!("{mark}  {line}"), false, 9.5, INK, 8.0),
                    1.0,
                );
            }
        }
        if !a.feedback.trim().is_empty() {
            stack(
                &mut block,
                ts.paragraph("Feedback", true, 10.0, INK, 0.0),
                9.0,
            );
            stack(
                &mut block,
                ts.paragraph(a.feedback.trim(), false, 10.5, INK, 0.0),
                2.0,
            );
        }
        let changed = match (a.ai_score, a.teacher_score) {
            (Some(ai), Some(t)) if (ai - t).abs() > 1e-9 => Some(format!(
                "The teacher changed the score from {} to {}.",
                points(ai),
                points(t)
            )),
            _ => None,
        };
        let note = a
            .teacher_note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if note.is_some() || changed.is_some() {
            stack(
                &mut block,
                ts.paragraph("Teacher's note", true, 10.0, INK, 0.0),
                9.0,
            );
            let text = [note.map(str::to_string), changed]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
            stack(&mut block, ts.paragraph(&text, false, 10.5, INK, 0.0), 2.0);
        }
    }
    block.height += 22.0;
    block
}

fn fill(surface: &mut Surface, (r, g, b): (u8, u8, u8)) {
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(r, g, b).into(),
        ..Default::default()
    }));
}

fn draw(surface: &mut Surface, ts: &Typesetter, mark: Mark, top: f32) {
    match mark {
        Mark::Text {
            x,
            y,
            bold,
            size,
            color,
            text,
        } => {
            fill(surface, color);
            surface.draw_text(
                Point::from_xy(x, top + y),
                ts.face(bold).font.clone(),
                size,
                &text,
                false,
                TextDirection::Auto,
            );
        }
        Mark::Rect { x, y, w, h, color } => {
            let mut path = PathBuilder::new();
            if let Some(rect) = Rect::from_xywh(x, top + y, w, h) {
                path.push_rect(rect);
            }
            if let Some(path) = path.finish() {
                fill(surface, color);
                surface.draw_path(&path);
            }
        }
        Mark::Image { x, y, w, h, image } => {
            if let Some(size) = Size::from_wh(w, h) {
                surface.push_transform(&Transform::from_translate(x, top + y));
                surface.draw_image(image, size);
                surface.pop();
            }
        }
    }
}

/// Lays one student's blocks onto pages of `doc`: a block that does not fit what is left of
/// the page starts a new one; one taller than a page is split between its marks.
fn render_student(doc: &mut Document, ts: &Typesetter, book: &ClassBook, student: &BookStudent) {
    let blocks = student_blocks(ts, book, student);
    let mut pages: Vec<Vec<(Mark, f32)>> = vec![Vec::new()];
    let mut y = MARGIN;
    for block in blocks {
        if y + block.height > BOTTOM && y > MARGIN {
            pages.push(Vec::new());
            y = MARGIN;
        }
        let mut shift = 0.0;
        for mark in block.marks {
            let mark_bottom = match &mark {
                Mark::Text { y: b, size, .. } => b + size * 0.3,
                Mark::Rect { y: t, h, .. } | Mark::Image { y: t, h, .. } => t + h,
            };
            if y + mark_bottom - shift > BOTTOM {
                let mark_top = match &mark {
                    Mark::Text { y: b, size, .. } => b - size,
                    Mark::Rect { y: t, .. } | Mark::Image { y: t, .. } => *t,
                };
                pages.push(Vec::new());
                shift = mark_top;
                y = MARGIN;
            }
            pages.last_mut().expect("a page").push((mark, y - shift));
        }
        y += block.height - shift;
    }
    let count = pages.len();
    for (n, marks) in pages.into_iter().enumerate() {
        let mut page = doc.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4"));
        let mut surface = page.surface();
        for (mark, top) in marks {
            draw(&mut surface, ts, mark, top);
        }
        let footer = format!(
            "{}  ·  {}  ·  page {} of {count}",
            book.exam_name,
            student.name,
            n + 1
        );
        draw(
            &mut surface,
            ts,
            Mark::Text {
                x: MARGIN,
                y: 0.0,
                bold: false,
                size: 8.0,
                color: GREY,
                text: footer,
            },
            FOOTER_Y,
        );
        surface.finish();
        page.finish();
    }
}

/// A file name for a student: their position and name, safe on every file system.
fn file_name(index: usize, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_matches('_');
    let safe: String = safe.chars().take(60).collect();
    format!(
        "{:03}-{}.pdf",
        index + 1,
        if safe.is_empty() { "student" } else { &safe }
    )
}

fn finish(doc: Document, title: String, path: &Path) -> Result<(), CoreError> {
    let mut doc = doc;
    doc.set_metadata(Metadata::new().title(title).creator("GradeDesk".into()));
    let bytes = doc
        .finish()
        .map_err(|e| CoreError::Io(format!("could not typeset {}: {e:?}", path.display())))?;
    let tmp = path.with_extension("pdf.tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            CoreError::Io(format!("could not write {}: {e}", path.display()))
        })
}

/// Writes a PDF per student and `class.pdf` (everyone, each from a new page) into `dir`,
/// creating it. Blocking.
pub fn write_feedback(book: &ClassBook, dir: &Path) -> Result<FeedbackReport, CoreError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CoreError::Io(format!("could not create {}: {e}", dir.display())))?;
    let ts = Typesetter {
        regular: Face::new(SANS)?,
        bold: Face::new(SANS_BOLD)?,
    };
    let mut files = Vec::new();
    let mut class = Document::new();
    for (i, student) in book.students.iter().enumerate() {
        let mut doc = Document::new();
        render_student(&mut doc, &ts, book, student);
        let path: PathBuf = dir.join(file_name(i, &student.name));
        finish(doc, format!("{} — {}", book.exam_name, student.name), &path)?;
        files.push(path.to_string_lossy().into_owned());
        render_student(&mut class, &ts, book, student);
    }
    let class_pdf = dir.join("class.pdf");
    if book.students.is_empty() {
        // An empty class still gets a (one-page) class file saying so.
        let mut page = class.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4"));
        let mut surface = page.surface();
        let block = ts.paragraph(
            &format!("{}: no students yet", book.exam_name),
            true,
            14.0,
            INK,
            0.0,
        );
        for mark in block.marks {
            draw(&mut surface, &ts, mark, MARGIN);
        }
        surface.finish();
        page.finish();
    }
    finish(class, format!("{} — the class", book.exam_name), &class_pdf)?;
    Ok(FeedbackReport {
        students: book.students.len(),
        files,
        class_pdf: class_pdf.to_string_lossy().into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_within_the_width_and_long_words_are_cut() {
        let ts = Typesetter {
            regular: Face::new(SANS).unwrap(),
            bold: Face::new(SANS_BOLD).unwrap(),
        };
        let text = "Zoë O'Brien wrote F = ma and then explained it ".repeat(8) + &"z".repeat(300);
        let lines = ts.wrap(&text, false, 10.0, 200.0);
        assert!(lines.len() > 5);
        for line in &lines {
            assert!(ts.regular.width(line, 10.0) <= 200.0, "{line}");
        }
        assert_eq!(lines.concat().matches('z').count(), 300);
    }

    #[test]
    fn file_names_keep_accents_and_drop_separators() {
        assert_eq!(file_name(0, "Zoë O'Brien"), "001-Zoë_O_Brien.pdf");
        assert_eq!(file_name(11, "../../etc"), "012-etc.pdf");
        assert_eq!(file_name(2, "///"), "003-student.pdf");
    }
}
