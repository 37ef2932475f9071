//! The statistics a teacher reads after grading: per question (mean, median, spread,
//! facility, discrimination, blanks, a histogram), per exam (the totals' histogram and
//! Cronbach's alpha), and how far the AI agreed with the teacher on each question.
//!
//! Pure functions over plain vectors: no database, no I/O. The numbers are checked against
//! an independent implementation (numpy, scipy, scikit-learn) in
//! `tests/fixtures/stats_expected.py`, whose output `tests/fixtures/stats_expected.json` the
//! unit tests below read.
//!
//! Conventions (the script follows the same ones):
//! - standard deviations and variances are the sample ones (n − 1);
//! - a question's figures use the students who have a final score for it; a student who has
//!   no answer boxed for a question is *blank* there and scores 0 (an unanswered question
//!   earns nothing), while an answer still being graded has no score yet and is left out;
//! - totals, Cronbach's alpha and discrimination use only the students with a score on every
//!   question (a partly graded student would pull every correlation down);
//! - discrimination is the corrected item-total correlation: Pearson's r (the point-biserial
//!   for a right/wrong question) between the question's score and the rest of the exam;
//! - score levels are whole points, or half points when any score or maximum has a half;
//!   the question's histogram counts each level, agreement's kappa and confusion use them.

use serde::Serialize;
use ts_rs::TS;

/// Questions whose discrimination is below this are flagged: they barely separate the
/// stronger students from the weaker ones.
pub const LOW_DISCRIMINATION: f64 = 0.2;

/// One question's data: for each student (the same order for every question) the final
/// score or None, whether the answer was blank, and the (AI, teacher) score pairs of the
/// answers the teacher accepted or overrode.
#[derive(Debug, Clone, Default)]
pub struct QuestionData {
    pub label: String,
    pub max_points: f64,
    pub scores: Vec<Option<f64>>,
    pub blank: Vec<bool>,
    pub pairs: Vec<(f64, f64)>,
}

/// One bar of a histogram: the count of values in `[lo, hi)` (the last bar includes `hi`),
/// or, for a question, of the scores at the level `lo`..`hi` is centred on.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Bin {
    pub lo: f64,
    pub hi: f64,
    pub count: u32,
}

/// How the AI's scores compare with the teacher's on the answers the teacher reviewed.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Agreement {
    /// Answers with both an AI score and the teacher's.
    pub n: u32,
    /// Share with the same score (0..1), or null with no pair.
    pub exact: Option<f64>,
    /// Share within one point.
    pub within_one: Option<f64>,
    /// Mean absolute difference in points.
    pub mae: Option<f64>,
    /// Quadratic weighted kappa over the score levels; null when it is undefined (no pair,
    /// or every score on one level).
    pub qwk: Option<f64>,
    /// The score levels of the confusion matrix.
    pub levels: Vec<f64>,
    /// `confusion[a][t]`: answers the AI put on level `a` and the teacher on level `t`.
    pub confusion: Vec<Vec<u32>>,
}

/// One question's figures.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct QuestionStats {
    pub label: String,
    pub max_points: f64,
    /// Students with a final score for it (blank ones included, at 0).
    pub n: u32,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub sd: Option<f64>,
    /// Mean over maximum (0..1): how easy the question was.
    pub facility: Option<f64>,
    /// Corrected item-total correlation (−1..1); null with fewer than three complete
    /// students or no spread.
    pub discrimination: Option<f64>,
    /// Discrimination below [`LOW_DISCRIMINATION`].
    pub low_discrimination: bool,
    /// Share of the students who left it blank.
    pub blank_share: Option<f64>,
    pub histogram: Vec<Bin>,
    pub agreement: Agreement,
}

/// The whole exam's figures, over the students graded on every question.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct TotalStats {
    pub n: u32,
    pub max_points: f64,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    /// Cronbach's alpha; null with fewer than two questions or no spread.
    pub alpha: Option<f64>,
    /// Ten bars over 0..max points.
    pub histogram: Vec<Bin>,
}

/// Everything the statistics page and `gradedesk stats` show.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ExamStats {
    pub questions: Vec<QuestionStats>,
    pub exam: TotalStats,
}

pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// The sample variance (n − 1), None below two values.
pub fn variance(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs)?;
    Some(xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64)
}

pub fn sd(xs: &[f64]) -> Option<f64> {
    variance(xs).map(f64::sqrt)
}

/// Pearson's correlation, None when either side has no spread or fewer than three values.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    if xs.len() != ys.len() || xs.len() < 3 {
        return None;
    }
    let (mx, my) = (mean(xs)?, mean(ys)?);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    if sxx <= f64::EPSILON || syy <= f64::EPSILON {
        return None;
    }
    Some(sxy / (sxx * syy).sqrt())
}

/// Cronbach's alpha of a students × questions matrix (each row a student).
pub fn cronbach_alpha(matrix: &[Vec<f64>]) -> Option<f64> {
    let k = matrix.first()?.len();
    if k < 2 || matrix.len() < 2 {
        return None;
    }
    let item_var: f64 = (0..k)
        .map(|j| variance(&matrix.iter().map(|row| row[j]).collect::<Vec<_>>()))
        .sum::<Option<f64>>()?;
    let totals: Vec<f64> = matrix.iter().map(|row| row.iter().sum()).collect();
    let total_var = variance(&totals)?;
    if total_var <= f64::EPSILON {
        return None;
    }
    Some(k as f64 / (k as f64 - 1.0) * (1.0 - item_var / total_var))
}

/// The score step of a question: 1, or 0.5 when any value has a half.
pub fn level_step(max_points: f64, values: impl IntoIterator<Item = f64>) -> f64 {
    let whole = |v: f64| (v - v.round()).abs() < 1e-9;
    if whole(max_points) && values.into_iter().all(whole) {
        1.0
    } else {
        0.5
    }
}

/// The score levels 0, step, …, max (max rounded up to a step).
pub fn levels(max_points: f64, step: f64) -> Vec<f64> {
    let count = (max_points / step - 1e-9).ceil().max(0.0) as usize + 1;
    (0..count).map(|i| i as f64 * step).collect()
}

/// The index of the level nearest `x` (halves round up), clamped to the levels.
fn level_index(x: f64, step: f64, count: usize) -> usize {
    ((x / step + 0.5 + 1e-9).floor().max(0.0) as usize).min(count - 1)
}

/// A bar per score level, each centred on its level.
pub fn level_histogram(scores: &[f64], max_points: f64, step: f64) -> Vec<Bin> {
    let levels = levels(max_points, step);
    let mut bins: Vec<Bin> = levels
        .iter()
        .map(|&l| Bin {
            lo: l - step / 2.0,
            hi: l + step / 2.0,
            count: 0,
        })
        .collect();
    for &s in scores {
        bins[level_index(s, step, levels.len())].count += 1;
    }
    bins
}

/// `bars` equal bars over `[0, max]`, the last one closed (numpy's `histogram`).
pub fn range_histogram(values: &[f64], max: f64, bars: usize) -> Vec<Bin> {
    let width = if max > 0.0 { max / bars as f64 } else { 1.0 };
    let mut bins: Vec<Bin> = (0..bars)
        .map(|i| Bin {
            lo: i as f64 * width,
            hi: (i + 1) as f64 * width,
            count: 0,
        })
        .collect();
    for &v in values {
        let i = ((v / width).floor().max(0.0) as usize).min(bars - 1);
        bins[i].count += 1;
    }
    bins
}

/// Cohen's kappa with quadratic weights between two ratings on the same levels (scikit-
/// learn's `cohen_kappa_score(weights="quadratic")`); None when the expected disagreement is
/// zero.
pub fn quadratic_weighted_kappa(confusion: &[Vec<u32>]) -> Option<f64> {
    let k = confusion.len();
    let n: f64 = confusion.iter().flatten().map(|&c| c as f64).sum();
    if k == 0 || n == 0.0 {
        return None;
    }
    let rows: Vec<f64> = confusion
        .iter()
        .map(|r| r.iter().map(|&c| c as f64).sum())
        .collect();
    let cols: Vec<f64> = (0..k)
        .map(|j| confusion.iter().map(|r| r[j] as f64).sum())
        .collect();
    let (mut observed, mut expected) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            let w = ((i as f64) - (j as f64)).powi(2);
            observed += w * confusion[i][j] as f64;
            expected += w * rows[i] * cols[j] / n;
        }
    }
    (expected > f64::EPSILON).then(|| 1.0 - observed / expected)
}

/// The AI against the teacher on the pairs (AI score, teacher score).
pub fn agreement(pairs: &[(f64, f64)], max_points: f64) -> Agreement {
    let step = level_step(max_points, pairs.iter().flat_map(|&(a, t)| [a, t]));
    let levels = levels(max_points, step);
    let mut confusion = vec![vec![0u32; levels.len()]; levels.len()];
    for &(a, t) in pairs {
        confusion[level_index(a, step, levels.len())][level_index(t, step, levels.len())] += 1;
    }
    let n = pairs.len();
    let share = |f: &dyn Fn(f64) -> bool| {
        (n > 0).then(|| pairs.iter().filter(|(a, t)| f((a - t).abs())).count() as f64 / n as f64)
    };
    Agreement {
        n: n as u32,
        exact: share(&|d| d < 1e-9),
        within_one: share(&|d| d <= 1.0 + 1e-9),
        mae: mean(&pairs.iter().map(|(a, t)| (a - t).abs()).collect::<Vec<_>>()),
        qwk: quadratic_weighted_kappa(&confusion),
        levels,
        confusion,
    }
}

/// Every figure of an exam from its questions' data (all with the same students in order).
pub fn exam_stats(questions: &[QuestionData]) -> ExamStats {
    let students = questions.iter().map(|q| q.scores.len()).max().unwrap_or(0);
    let score = |q: &QuestionData, s: usize| q.scores.get(s).copied().flatten();
    // The students graded on every question, as rows of the matrix.
    let complete: Vec<usize> = (0..students)
        .filter(|&s| questions.iter().all(|q| score(q, s).is_some()))
        .collect();
    let matrix: Vec<Vec<f64>> = complete
        .iter()
        .map(|&s| {
            questions
                .iter()
                .map(|q| score(q, s).unwrap_or(0.0))
                .collect()
        })
        .collect();
    let totals: Vec<f64> = matrix.iter().map(|row| row.iter().sum()).collect();
    let total_max: f64 = questions.iter().map(|q| q.max_points).sum();

    let per_question = questions
        .iter()
        .enumerate()
        .map(|(j, q)| {
            let scores: Vec<f64> = q.scores.iter().flatten().copied().collect();
            let item: Vec<f64> = matrix.iter().map(|row| row[j]).collect();
            let rest: Vec<f64> = matrix
                .iter()
                .zip(&totals)
                .map(|(row, t)| t - row[j])
                .collect();
            let discrimination = pearson(&item, &rest);
            let m = mean(&scores);
            let step = level_step(q.max_points, scores.iter().copied());
            let blanks = q.blank.iter().filter(|&&b| b).count();
            QuestionStats {
                label: q.label.clone(),
                max_points: q.max_points,
                n: scores.len() as u32,
                mean: m,
                median: median(&scores),
                sd: sd(&scores),
                facility: m.filter(|_| q.max_points > 0.0).map(|m| m / q.max_points),
                discrimination,
                low_discrimination: discrimination.is_some_and(|d| d < LOW_DISCRIMINATION),
                blank_share: (!q.blank.is_empty()).then(|| blanks as f64 / q.blank.len() as f64),
                histogram: level_histogram(&scores, q.max_points, step),
                agreement: agreement(&q.pairs, q.max_points),
            }
        })
        .collect();
    ExamStats {
        questions: per_question,
        exam: TotalStats {
            n: totals.len() as u32,
            max_points: total_max,
            mean: mean(&totals),
            sd: sd(&totals),
            alpha: cronbach_alpha(&matrix),
            histogram: range_histogram(&totals, total_max, 10),
        },
    }
}

/// A text histogram for the terminal: one line per bar, `#` scaled to `width` columns.
pub fn text_histogram(bins: &[Bin], width: usize) -> String {
    let top = bins.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    bins.iter()
        .map(|b| {
            let bar = "#".repeat((b.count as usize * width).div_ceil(top as usize));
            format!(
                "{:>6} – {:<6} {:>4} {bar}\n",
                trim(b.lo),
                trim(b.hi),
                b.count
            )
        })
        .collect()
}

/// A number without needless decimals (2, 2.5, 2.33).
pub fn trim(x: f64) -> String {
    let s = format!("{:.2}", x);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The committed fixture: the inputs and numpy/scipy/scikit-learn's figures.
    fn fixture() -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/stats_expected.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn close(actual: Option<f64>, expected: &Value, what: &str) {
        match (actual, expected.as_f64()) {
            (None, None) => {}
            (Some(a), Some(e)) => assert!((a - e).abs() < 1e-9, "{what}: {a} against {e}"),
            (a, _) => panic!("{what}: {a:?} against {expected}"),
        }
    }

    fn data_from(fixture: &Value) -> Vec<QuestionData> {
        fixture["input"]["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| QuestionData {
                label: q["label"].as_str().unwrap().into(),
                max_points: q["max_points"].as_f64().unwrap(),
                scores: q["scores"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(Value::as_f64)
                    .collect(),
                blank: q["blank"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b.as_bool().unwrap())
                    .collect(),
                pairs: q["pairs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn every_figure_matches_numpy_scipy_and_scikit_learn() {
        let fixture = fixture();
        let stats = exam_stats(&data_from(&fixture));
        let expected = &fixture["expected"];
        for (q, e) in stats
            .questions
            .iter()
            .zip(expected["questions"].as_array().unwrap())
        {
            let l = &q.label;
            assert_eq!(q.n as u64, e["n"].as_u64().unwrap(), "{l} n");
            close(q.mean, &e["mean"], &format!("{l} mean"));
            close(q.median, &e["median"], &format!("{l} median"));
            close(q.sd, &e["sd"], &format!("{l} sd"));
            close(q.facility, &e["facility"], &format!("{l} facility"));
            close(
                q.discrimination,
                &e["discrimination"],
                &format!("{l} discrimination"),
            );
            close(
                q.blank_share,
                &e["blank_share"],
                &format!("{l} blank share"),
            );
            let counts: Vec<u64> = q.histogram.iter().map(|b| b.count as u64).collect();
            let want: Vec<u64> = e["histogram"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap())
                .collect();
            assert_eq!(counts, want, "{l} histogram");
            let a = &q.agreement;
            let ea = &e["agreement"];
            assert_eq!(a.n as u64, ea["n"].as_u64().unwrap(), "{l} agreement n");
            close(a.exact, &ea["exact"], &format!("{l} exact"));
            close(a.within_one, &ea["within_one"], &format!("{l} within one"));
            close(a.mae, &ea["mae"], &format!("{l} mae"));
            close(a.qwk, &ea["qwk"], &format!("{l} qwk"));
            let confusion: Vec<Vec<u64>> = serde_json::from_value(ea["confusion"].clone()).unwrap();
            let ours: Vec<Vec<u64>> = a
                .confusion
                .iter()
                .map(|r| r.iter().map(|&c| c as u64).collect())
                .collect();
            assert_eq!(ours, confusion, "{l} confusion");
            assert_eq!(
                q.low_discrimination,
                e["flagged"].as_bool().unwrap(),
                "{l} flag"
            );
        }
        let t = &stats.exam;
        let e = &expected["exam"];
        assert_eq!(t.n as u64, e["n"].as_u64().unwrap());
        close(t.mean, &e["mean"], "exam mean");
        close(t.sd, &e["sd"], "exam sd");
        close(t.alpha, &e["alpha"], "alpha");
        let counts: Vec<u64> = t.histogram.iter().map(|b| b.count as u64).collect();
        let want: Vec<u64> = serde_json::from_value(e["histogram"].clone()).unwrap();
        assert_eq!(counts, want, "exam histogram");
        assert!(
            stats.questions.iter().any(|q| q.low_discrimination),
            "the fixture has a question that discriminates poorly"
        );
    }

    #[test]
    fn empty_and_constant_data_give_no_figure_instead_of_nan() {
        let stats = exam_stats(&[QuestionData {
            label: "Q1".into(),
            max_points: 2.0,
            scores: vec![Some(1.0), Some(1.0)],
            blank: vec![false, false],
            pairs: vec![(1.0, 1.0)],
        }]);
        let q = &stats.questions[0];
        assert_eq!((q.sd, q.discrimination), (Some(0.0), None));
        assert_eq!(q.agreement.qwk, None);
        assert_eq!(stats.exam.alpha, None);
        let none = exam_stats(&[]);
        assert_eq!(none.exam.n, 0);
        assert_eq!(none.exam.mean, None);
    }

    #[test]
    fn the_text_histogram_scales_its_bars() {
        let text = text_histogram(
            &[
                Bin {
                    lo: 0.0,
                    hi: 1.0,
                    count: 2,
                },
                Bin {
                    lo: 1.0,
                    hi: 2.0,
                    count: 4,
                },
            ],
            10,
        );
        assert!(text.lines().nth(1).unwrap().ends_with(&"#".repeat(10)));
        assert!(text.lines().next().unwrap().ends_with(" #####"));
    }
}
