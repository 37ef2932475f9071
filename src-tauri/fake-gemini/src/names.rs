//! Name reading, as the fake does it. A real model reads handwriting; the fake cannot, so
//! the scans the project generates carry, in the top-right corner of the name box, a row
//! of printed cells that number the student, and a test (or `--names FILE`) tells the fake
//! what "was read" for each number: a typo, a missing accent, an initial, a wrong ID digit.
//! The request and the answer are the real wire format; only the reading is scripted.
//!
//! The code: 12 equal cells across x ∈ [0.70, 0.98] of the box's width, y ∈ [0.05, 0.25]
//! of its height; the first and last are always dark (guards), the 10 between are the
//! number's bits, most significant first (dark = 1). `assets/demo/make_demo.py` draws it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Where the code sits in the name box, as fractions of the box.
pub const CODE_X: (f64, f64) = (0.70, 0.98);
/// See [`CODE_X`].
pub const CODE_Y: (f64, f64) = (0.05, 0.25);
/// Guards and bits.
pub const CODE_CELLS: usize = 12;

/// What the fake answers for one student number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameReply {
    pub name: String,
    #[serde(default)]
    pub student_id: String,
    #[serde(default = "default_confidence")]
    pub confidence: f64,
}

fn default_confidence() -> f64 {
    0.9
}

/// Student number → what "was read".
pub type NameTable = HashMap<u32, NameReply>;

/// The cells of a number's code: dark or not, guards included.
pub fn code_cells(number: u32) -> [bool; CODE_CELLS] {
    let mut cells = [false; CODE_CELLS];
    cells[0] = true;
    cells[CODE_CELLS - 1] = true;
    for bit in 0..10 {
        cells[1 + bit] = number >> (9 - bit) & 1 == 1;
    }
    cells
}

/// Reads the student number from a name box's image: None when there is no code (the
/// guards are not dark), as on a box cut from a scan without one.
pub fn read_code(image: &[u8]) -> Option<u32> {
    let grey = image::load_from_memory(image).ok()?.to_luma8();
    let (w, h) = (f64::from(grey.width()), f64::from(grey.height()));
    let cell_w = (CODE_X.1 - CODE_X.0) / CODE_CELLS as f64;
    let dark = |k: usize| -> bool {
        // The middle half of the cell, so a slightly shifted warp still reads.
        let x0 = (CODE_X.0 + cell_w * (k as f64 + 0.25)) * w;
        let x1 = (CODE_X.0 + cell_w * (k as f64 + 0.75)) * w;
        let span = CODE_Y.1 - CODE_Y.0;
        let y0 = (CODE_Y.0 + span * 0.25) * h;
        let y1 = (CODE_Y.0 + span * 0.75) * h;
        let (mut sum, mut n) = (0u64, 0u64);
        for y in (y0 as u32)..=(y1 as u32).min(grey.height() - 1) {
            for x in (x0 as u32)..=(x1 as u32).min(grey.width() - 1) {
                sum += u64::from(grey.get_pixel(x, y).0[0]);
                n += 1;
            }
        }
        n > 0 && sum / n < 110
    };
    if !(dark(0) && dark(CODE_CELLS - 1)) {
        return None;
    }
    Some((1..=10).fold(0u32, |acc, k| acc << 1 | u32::from(dark(k))))
}

/// The answer's JSON text for a name box: the scripted reply of its number, or a blank
/// box's (nothing read) when there is no code or no reply for it.
pub fn reply_text(table: &NameTable, image: Option<&[u8]>) -> String {
    let reply = image
        .and_then(read_code)
        .and_then(|n| table.get(&n).cloned())
        .unwrap_or(NameReply {
            name: String::new(),
            student_id: String::new(),
            confidence: 0.3,
        });
    serde_json::json!({
        "name": reply.name,
        "student_id": reply.student_id,
        "confidence": reply.confidence
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn box_with_code(number: Option<u32>) -> Vec<u8> {
        let (w, h) = (600u32, 80u32);
        let mut img = image::GrayImage::from_pixel(w, h, image::Luma([245]));
        if let Some(number) = number {
            let cells = code_cells(number);
            let cell_w = (CODE_X.1 - CODE_X.0) / CODE_CELLS as f64;
            for (k, &on) in cells.iter().enumerate() {
                if !on {
                    continue;
                }
                let x0 = ((CODE_X.0 + cell_w * k as f64) * f64::from(w)) as u32;
                let x1 = ((CODE_X.0 + cell_w * (k as f64 + 1.0)) * f64::from(w)) as u32;
                for y in (CODE_Y.0 * f64::from(h)) as u32..(CODE_Y.1 * f64::from(h)) as u32 {
                    for x in x0..x1 {
                        img.put_pixel(x, y, image::Luma([20]));
                    }
                }
            }
        }
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_code_reads_back_and_a_box_without_one_reads_blank() {
        for n in [1, 2, 30, 511, 1023] {
            assert_eq!(read_code(&box_with_code(Some(n))), Some(n));
        }
        assert_eq!(read_code(&box_with_code(None)), None);
        let mut table = NameTable::new();
        table.insert(
            7,
            NameReply {
                name: "Zoe Mulker".into(),
                student_id: "1007".into(),
                confidence: 0.8,
            },
        );
        let text = reply_text(&table, Some(&box_with_code(Some(7))));
        assert!(text.contains("Zoe Mulker"), "{text}");
        assert!(reply_text(&table, Some(&box_with_code(None))).contains("\"name\":\"\""));
    }
}
