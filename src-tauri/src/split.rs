//! Splitting a class's scanned pages into students: each page was identified against the
//! template (which template page it is, or that it is blank, foreign or unreadable), and the
//! pages are grouped in scan order so that a reversed pair, an upside-down sheet, a missing
//! page or a stray blank page is caught and said, never silently shifted onto the next
//! student. No page is ever dropped: a page no student gets is listed with its reason.
//!
//! A pure function of the identifications: no images, no database.

use serde::Serialize;
use ts_rs::TS;

/// What identification made of one scanned page.
#[derive(Debug, Clone, PartialEq)]
pub enum PageMatch {
    /// The page is template page `template_page` (from 1).
    Matched {
        template_page: u32,
        upside_down: bool,
        /// The fit is worth a look ("check alignment").
        flagged: bool,
        /// Writing was found outside every region of the page.
        writing_outside: bool,
    },
    /// Next to no ink: a blank sheet (a scanner's empty back side).
    Blank,
    /// Not like any template page: another exam, or a page the template lacks.
    Foreign,
    /// The page could not be read; the reason says why. It keeps its place: it is taken to
    /// be the current student's next page, so the pages after it are not shifted.
    Unreadable(String),
    /// A whole file could not be read (it holds no place among the pages).
    UnreadableFile(String),
}

/// What the teacher should look at in a student's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// A template page is not among the student's scanned pages.
    MissingPage,
    /// The pages were scanned in another order than the template's (they are put back in order).
    OutOfOrder,
    /// A page was scanned upside down (it is read turned back).
    UpsideDown,
    /// The page's alignment to its template page is doubtful.
    CheckAlignment,
    /// The student wrote outside every region of the page (no answer's crop holds it).
    WritingOutside,
}

/// One thing to look at, with the template page it concerns and a sentence.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Flag {
    pub kind: FlagKind,
    /// Template page, from 1 (None for the order of the pages).
    pub page: Option<u32>,
    pub message: String,
}

/// One student's pages: `pages[k]` is the scan index of template page k + 1, if scanned.
#[derive(Debug, Clone, PartialEq)]
pub struct Student {
    pub pages: Vec<Option<usize>>,
    pub flags: Vec<Flag>,
}

/// The split: the students in scan order, and the pages no student got.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub students: Vec<Student>,
    /// (scan index, reason).
    pub unassigned: Vec<(usize, String)>,
}

/// Groups `pages` (in scan order) into students of a `template_pages`-page exam. A new
/// student starts at a page whose template page the current student already has (page 1
/// again, say), or when the current student is complete.
pub fn split(pages: &[PageMatch], template_pages: u32) -> Split {
    let n = template_pages.max(1) as usize;
    let mut students = Vec::new();
    let mut unassigned = Vec::new();
    // The current student: template page → scan index, and the scan order of template pages.
    let mut current = Group::new(n);
    let mut close = |current: &mut Group| {
        let done = std::mem::replace(current, Group::new(n));
        if !done.order.is_empty() {
            students.push(done.finish());
        }
    };
    for (index, page) in pages.iter().enumerate() {
        match page {
            PageMatch::Matched {
                template_page,
                upside_down,
                flagged,
                writing_outside,
            } => {
                let slot = (*template_page as usize).clamp(1, n) - 1;
                if current.taken(slot) || current.complete() {
                    close(&mut current);
                }
                current.pages[slot] = Some(index);
                current.order.push(slot as u32 + 1);
                current.details.push((slot, *upside_down, *flagged, *writing_outside));
            }
            PageMatch::Blank => unassigned.push((index, "a blank page".to_string())),
            PageMatch::Foreign => unassigned.push((
                index,
                format!("matches no page of the {n}-page template (another exam, or a page the template lacks)"),
            )),
            PageMatch::Unreadable(reason) => {
                unassigned.push((index, format!("could not be read: {reason}")));
                if current.complete() {
                    close(&mut current);
                }
                if let Some(slot) = (0..n).find(|&slot| !current.taken(slot)) {
                    current.held[slot] = true;
                    current.order.push(slot as u32 + 1);
                }
            }
            PageMatch::UnreadableFile(reason) => {
                unassigned.push((index, format!("could not be read: {reason}")))
            }
        }
    }
    close(&mut current);
    Split {
        students,
        unassigned,
    }
}

/// The student being gathered: template page → scan index, the places unreadable pages
/// hold, the scan order of template pages, and (slot, upside down, flagged, writing
/// outside) per page.
struct Group {
    pages: Vec<Option<usize>>,
    held: Vec<bool>,
    order: Vec<u32>,
    details: Vec<(usize, bool, bool, bool)>,
}

impl Group {
    fn new(n: usize) -> Self {
        Self {
            pages: vec![None; n],
            held: vec![false; n],
            order: Vec::new(),
            details: Vec::new(),
        }
    }

    fn taken(&self, slot: usize) -> bool {
        self.pages[slot].is_some() || self.held[slot]
    }

    fn complete(&self) -> bool {
        (0..self.pages.len()).all(|slot| self.taken(slot))
    }

    fn finish(self) -> Student {
        student(self.pages, &self.held, &self.order, &self.details)
    }
}

/// A finished student with the flags its pages call for.
fn student(
    pages: Vec<Option<usize>>,
    held: &[bool],
    order: &[u32],
    details: &[(usize, bool, bool, bool)],
) -> Student {
    let mut flags = Vec::new();
    if order.windows(2).any(|w| w[0] > w[1]) {
        let scanned: Vec<String> = order.iter().map(u32::to_string).collect();
        flags.push(Flag {
            kind: FlagKind::OutOfOrder,
            page: None,
            message: format!(
                "pages scanned out of order ({}): put back in the template's order",
                scanned.join(", ")
            ),
        });
    }
    for (slot, page) in pages.iter().enumerate() {
        if page.is_none() {
            let why = if held[slot] {
                " (a page in its place could not be read: see the unassigned pages)"
            } else {
                ""
            };
            flags.push(Flag {
                kind: FlagKind::MissingPage,
                page: Some(slot as u32 + 1),
                message: format!("page {} is missing{why}", slot + 1),
            });
        }
    }
    for &(slot, upside_down, flagged, writing_outside) in details {
        let number = slot as u32 + 1;
        if upside_down {
            flags.push(Flag {
                kind: FlagKind::UpsideDown,
                page: Some(number),
                message: format!("page {number} was scanned upside down: read turned back"),
            });
        }
        if flagged {
            flags.push(Flag {
                kind: FlagKind::CheckAlignment,
                page: Some(number),
                message: format!("page {number}: check alignment"),
            });
        }
        if writing_outside {
            flags.push(Flag {
                kind: FlagKind::WritingOutside,
                page: Some(number),
                message: format!("writing outside the boxes on page {number}"),
            });
        }
    }
    Student { pages, flags }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(template_page: u32) -> PageMatch {
        PageMatch::Matched {
            template_page,
            upside_down: false,
            flagged: false,
            writing_outside: false,
        }
    }

    fn kinds(s: &Student) -> Vec<FlagKind> {
        s.flags.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_clean_class_splits_by_the_template_page_count() {
        let pages = [m(1), m(2), m(1), m(2), m(1), m(2)];
        let split = split(&pages, 2);
        assert_eq!(split.students.len(), 3);
        assert_eq!(split.students[2].pages, vec![Some(4), Some(5)]);
        assert!(split.students.iter().all(|s| s.flags.is_empty()));
        assert!(split.unassigned.is_empty());
    }

    #[test]
    fn a_reversed_pair_an_upside_down_page_and_a_missing_page_are_flagged_not_shifted() {
        let upside = PageMatch::Matched {
            template_page: 2,
            upside_down: true,
            flagged: false,
            writing_outside: false,
        };
        // Student 1 reversed; student 2 lost page 2; student 3 has page 2 upside down.
        let pages = [m(2), m(1), m(1), m(1), upside];
        let split = split(&pages, 2);
        assert_eq!(split.students.len(), 3);
        assert_eq!(split.students[0].pages, vec![Some(1), Some(0)]);
        assert_eq!(kinds(&split.students[0]), vec![FlagKind::OutOfOrder]);
        assert_eq!(split.students[1].pages, vec![Some(2), None]);
        assert_eq!(kinds(&split.students[1]), vec![FlagKind::MissingPage]);
        assert_eq!(split.students[1].flags[0].page, Some(2));
        assert_eq!(split.students[2].pages, vec![Some(3), Some(4)]);
        assert_eq!(kinds(&split.students[2]), vec![FlagKind::UpsideDown]);
    }

    #[test]
    fn blank_foreign_and_unreadable_files_stay_listed_and_shift_nobody() {
        let pages = [
            m(1),
            PageMatch::Blank,
            m(2),
            PageMatch::Foreign,
            m(1),
            PageMatch::UnreadableFile("damaged".into()),
            m(2),
        ];
        let split = split(&pages, 2);
        assert_eq!(split.students.len(), 2);
        assert_eq!(split.students[0].pages, vec![Some(0), Some(2)]);
        assert_eq!(split.students[1].pages, vec![Some(4), Some(6)]);
        let listed: Vec<usize> = split.unassigned.iter().map(|u| u.0).collect();
        assert_eq!(listed, vec![1, 3, 5]);
        assert!(split.unassigned[0].1.contains("blank"));
        assert!(split.unassigned[1]
            .1
            .contains("no page of the 2-page template"));
        assert!(split.unassigned[2].1.contains("damaged"));
    }

    #[test]
    fn an_unreadable_page_keeps_its_place_so_the_next_student_is_not_shifted() {
        let pages = [
            m(1),
            m(2),
            PageMatch::Unreadable("damaged".into()),
            m(2),
            m(1),
            m(2),
        ];
        let split = split(&pages, 2);
        assert_eq!(split.students.len(), 3);
        assert_eq!(split.students[1].pages, vec![None, Some(3)]);
        assert_eq!(kinds(&split.students[1]), vec![FlagKind::MissingPage]);
        assert!(split.students[1].flags[0]
            .message
            .contains("could not be read"));
        assert_eq!(split.students[2].pages, vec![Some(4), Some(5)]);
        // A whole file that failed holds no place.
        let pages = [m(1), PageMatch::UnreadableFile("not a PDF".into()), m(2)];
        assert_eq!(super::split(&pages, 2).students.len(), 1);
    }

    #[test]
    fn nothing_but_blank_pages_gives_no_student_and_every_page_listed() {
        let split = split(&[PageMatch::Blank, PageMatch::Blank], 3);
        assert!(split.students.is_empty());
        assert_eq!(split.unassigned.len(), 2);
    }
}
