//! The detector's training set: the examples shipped with the bot (`assets/detector/`, written
//! for this project, see its README), the FAQ's own phrasings as questions, and the community's
//! corrections, which count more.

/// The shipped examples (`text<TAB>support|chatter<TAB>style`, with a header).
const SHIPPED: &str = include_str!("../../../assets/detector/examples.tsv");

/// How much one moderator's correction counts against one shipped example: enough that a
/// community's word beats the shipped set's on similar messages after one correction.
pub const CORRECTION_WEIGHT: u32 = 8;

/// A labeled text for the fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub support: bool,
    pub weight: u32,
}

/// The shipped examples, in file order (parsed once).
pub fn shipped() -> &'static [Example] {
    static PARSED: std::sync::OnceLock<Vec<Example>> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| parse(SHIPPED))
}

fn parse(raw: &str) -> Vec<Example> {
    raw.lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let text = cols.next()?.trim();
            let support = match cols.next()?.trim() {
                "support" => true,
                "chatter" => false,
                _ => return None,
            };
            (!text.is_empty()).then(|| Example { text: text.to_string(), support, weight: 1 })
        })
        .collect()
}

/// Everything the detector is fitted on: shipped examples, then the FAQ's phrasings (support),
/// then the corrections (weighted). A correction of a shipped or FAQ text overrides it.
pub fn training_set(faq_phrasings: &[String], corrections: &[(String, bool)]) -> Vec<Example> {
    let corrected: std::collections::HashSet<String> = corrections.iter().map(|(t, _)| t.trim().to_lowercase()).collect();
    let kept = |text: &str| !corrected.contains(&text.trim().to_lowercase());
    let mut out: Vec<Example> = shipped().iter().filter(|e| kept(&e.text)).cloned().collect();
    out.extend(faq_phrasings.iter().filter(|t| kept(t)).map(|t| Example { text: t.clone(), support: true, weight: 1 }));
    out.extend(corrections.iter().map(|(t, support)| Example { text: t.clone(), support: *support, weight: CORRECTION_WEIGHT }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_set_is_balanced_and_parses_whole() {
        let all = shipped();
        let lines = SHIPPED.lines().skip(1).filter(|l| !l.trim().is_empty()).count();
        assert_eq!(all.len(), lines, "every line is text, label, style");
        let support = all.iter().filter(|e| e.support).count();
        assert!(support >= 400 && all.len() - support >= 400, "{support} support of {}", all.len());
    }

    #[test]
    fn corrections_override_and_outweigh() {
        let set = training_set(&["How do I reset it?".into()], &[("how do i reset it?".into(), false)]);
        let matching: Vec<&Example> = set.iter().filter(|e| e.text.eq_ignore_ascii_case("how do i reset it?")).collect();
        assert_eq!(matching.len(), 1);
        assert!(!matching[0].support);
        assert_eq!(matching[0].weight, CORRECTION_WEIGHT);
    }
}
