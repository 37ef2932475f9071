//! How alike a name read from a page is to a roster entry, from 0 (nothing alike) to 1.
//!
//! Handwriting and its reading are noisy in known ways: accents dropped ("Zoe Muller"),
//! the order turned ("Muller, Zoe"), a first name cut to an initial ("Z. Müller"), a letter
//! misread ("Mulker"), a digit of the ID misread. Each is tolerated, and an exact ID
//! dominates the name.

/// A name reduced for comparison: accents folded, case and punctuation gone, in words.
pub fn tokens(name: &str) -> Vec<String> {
    let folded = deunicode::deunicode(name).to_lowercase();
    folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Similarity of two words: an exact word 1, an initial of the word 0.8, else the
/// Jaro-Winkler similarity (a misread letter costs little in a long word).
fn word_similarity(read: &str, roster: &str) -> f64 {
    if read == roster {
        return 1.0;
    }
    if read.len() == 1 || roster.len() == 1 {
        return if read.chars().next() == roster.chars().next() {
            0.8
        } else {
            0.0
        };
    }
    strsim::jaro_winkler(read, roster)
}

/// The name similarity, whatever the order of the words: the best pairing of the read
/// words with the roster's (Dice-like, so a missing or an extra word costs), or the two
/// names' letters run together (a "MarieClaire" for "Marie-Claire"), whichever is higher.
pub fn name_similarity(read: &str, roster: &str) -> f64 {
    let (a, b) = (tokens(read), tokens(roster));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let paired = best_pairing(&a, &b);
    let dice = 2.0 * paired / (a.len() + b.len()) as f64;
    let joined = |words: &[String]| {
        let mut sorted = words.to_vec();
        sorted.sort();
        sorted.concat()
    };
    let together = strsim::jaro_winkler(&a.concat(), &b.concat())
        .max(strsim::jaro_winkler(&joined(&a), &joined(&b)));
    // Running the letters together is a fallback: it must not beat an exact pairing.
    dice.max(together * 0.95)
}

/// The largest total similarity of a one-to-one pairing of the words (names have few
/// words: a greedy choice from the best pair down is exact enough).
fn best_pairing(a: &[String], b: &[String]) -> f64 {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            pairs.push((word_similarity(x, y), i, j));
        }
    }
    pairs.sort_by(|p, q| q.0.total_cmp(&p.0));
    let (mut used_a, mut used_b) = (vec![false; a.len()], vec![false; b.len()]);
    let mut total = 0.0;
    for (s, i, j) in pairs {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            total += s;
        }
    }
    total
}

/// How an ID read from the page compares with the roster's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdAgreement {
    /// Nothing to compare (no ID read, or none on the roster).
    Unknown,
    Exact,
    /// One digit misread, or two neighbours swapped.
    Near,
    Different,
}

/// Compares the IDs by their letters and digits only ("2023-1001" is "20231001").
pub fn id_agreement(read: &str, roster: Option<&str>) -> IdAgreement {
    let clean = |s: &str| -> Vec<char> {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let (a, b) = (clean(read), clean(roster.unwrap_or("")));
    if a.is_empty() || b.is_empty() {
        return IdAgreement::Unknown;
    }
    if a == b {
        return IdAgreement::Exact;
    }
    if a.len() == b.len() {
        let differing: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        let swapped = differing.len() == 2
            && differing[1] == differing[0] + 1
            && a[differing[0]] == b[differing[1]]
            && a[differing[1]] == b[differing[0]];
        if differing.len() == 1 || swapped {
            return IdAgreement::Near;
        }
    }
    IdAgreement::Different
}

/// The similarity of a script (its read name and ID) to a roster entry. An exact ID
/// dominates: it alone makes a strong match, and the name only adds to it. A near ID
/// supports a similar name a little; a different one (possibly misread) costs a little.
pub fn script_similarity(
    read_name: &str,
    read_id: &str,
    roster_name: &str,
    roster_id: Option<&str>,
) -> f64 {
    let name = name_similarity(read_name, roster_name);
    match id_agreement(read_id, roster_id) {
        IdAgreement::Exact => 0.9 + 0.1 * name,
        IdAgreement::Near => (0.9 * name + 0.1).min(0.95),
        IdAgreement::Different => 0.85 * name,
        IdAgreement::Unknown => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_order_do_not_matter() {
        assert_eq!(name_similarity("zoe muller", "Müller, Zoë"), 1.0);
        assert_eq!(name_similarity("MULLER ZOE", "Müller, Zoë"), 1.0);
        assert_eq!(name_similarity("Müller, Zoë", "Zoë Müller"), 1.0);
    }

    #[test]
    fn typos_and_initials_are_close_and_other_names_are_not() {
        let typo = name_similarity("Zoe Mulker", "Müller, Zoë");
        let initial = name_similarity("Z. Muller", "Müller, Zoë");
        let other = name_similarity("Anna Schmidt", "Müller, Zoë");
        let same_first = name_similarity("Zoe Schmidt", "Müller, Zoë");
        assert!(typo > 0.9, "{typo}");
        assert!(initial > 0.85, "{initial}");
        assert!(other < 0.6, "{other}");
        assert!(same_first < typo - 0.2, "{same_first} vs {typo}");
        assert_eq!(name_similarity("", "Müller, Zoë"), 0.0);
    }

    #[test]
    fn an_exact_id_dominates_and_a_wrong_digit_is_near() {
        assert_eq!(
            id_agreement("2023-1001", Some("20231001")),
            IdAgreement::Exact
        );
        assert_eq!(
            id_agreement("20231007", Some("20231001")),
            IdAgreement::Near
        );
        assert_eq!(
            id_agreement("20231010", Some("20231001")),
            IdAgreement::Near
        );
        assert_eq!(id_agreement("99", Some("20231001")), IdAgreement::Different);
        assert_eq!(id_agreement("", Some("20231001")), IdAgreement::Unknown);
        let by_id = script_similarity(
            "illegible scrawl",
            "20231001",
            "Müller, Zoë",
            Some("20231001"),
        );
        let by_name = script_similarity("Zoe Muller", "", "Müller, Zoë", Some("20231001"));
        assert!(by_id >= 0.9, "{by_id}");
        assert_eq!(by_name, 1.0);
    }
}
