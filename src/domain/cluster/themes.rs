//! Themes for the digest: each cluster's keywords (class-based TF-IDF), size, trend against the
//! previous period and examples, behind a privacy floor; only clusters whose messages are alike
//! ([`coherence`] over a [`Bar`]) are shown as themes.

use super::{ClusterError, distance2, kmeans, kmeans_auto, matrix};
use ndarray::{Array1, Array2, Axis};
use std::collections::{BTreeMap, HashMap};

/// The [`coherence`] a cluster needs to be shown as a theme, and to be a tight one. k-means puts
/// every message in some cluster, so a week of unrelated questions still comes out as a few
/// clusters; only those whose messages are far more alike than chance are themes. The two
/// measures have their own scales (a sentence embedding puts any two questions closer than
/// TF-IDF does), so each has its own bar, set on the tests' weeks of unrelated questions, of
/// topics and of one question asked many ways (values from those tests and
/// `tests/it/digest.rs`):
///
/// | measured on | chance clusters | best of all chance triples | topics | one question, many ways |
/// |---|---|---|---|---|
/// | MiniLM embeddings | 0.05–0.14 | 0.44 | 0.34–0.49 | 0.79 |
/// | TF-IDF, all words | 0.005–0.03 (0.12–0.24 for 2–3 messages) | 0.24 | 0.35–0.53 (narrow), 0.16–0.24 (broad) | 0.46–0.49 |
///
/// So on embeddings a chance triple is at worst a loose theme, never a tight one; on words a
/// broad topic ("docker" asked about six different ways) is not told from everyday words shared
/// by chance, and is not shown: the model finds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Shown from this coherence on.
    pub theme: f64,
    /// Tight from this coherence on, loose below it.
    pub tight: f64,
}

/// The bar on sentence embeddings (mean pairwise cosine of MiniLM vectors).
pub const EMBEDDING_BAR: Bar = Bar { theme: 0.25, tight: 0.5 };
/// The bar on TF-IDF vectors of all the words ([`word_coherence`]), without a model.
pub const WORDS_BAR: Bar = Bar { theme: 0.3, tight: 0.45 };
/// The fewest messages a theme has: two messages alike are a coincidence as often as a topic
/// (two of the 18 unrelated questions share words enough for 0.35, or 0.58 on embeddings).
pub const MIN_THEME_SIZE: usize = 3;

/// How sure the digest is that a theme's messages are about one thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tightness {
    /// Coherence at least the bar's `tight`: the messages are alike (one question, many ways).
    Tight,
    /// Coherence between the bar's `theme` and `tight`: related messages (one area).
    Loose,
}

impl Tightness {
    /// The tightness of a cluster of coherence `c` under `bar`; None when it is no theme.
    pub fn of(c: f64, bar: Bar) -> Option<Tightness> {
        if c >= bar.tight {
            Some(Tightness::Tight)
        } else if c >= bar.theme {
            Some(Tightness::Loose)
        } else {
            None
        }
    }
}

/// How alike a cluster's messages are: the mean cosine similarity over all pairs of its members,
/// on the vectors the clustering used (sentence embeddings; for TF-IDF see [`word_coherence`]). 1 when
/// they all point the same way, about 0 for unrelated TF-IDF vectors. A zero vector (a message
/// sharing no word with any other) is alike to nothing. Unlike the similarity of members to
/// their centre, it does not grow as a cluster of unrelated messages gets smaller (two
/// orthogonal vectors are at cosine 0.71 from their mean, and 0 from each other). A single
/// message has nothing to be alike to: 0.
///
/// With unit vectors u, |Σu|² = n + Σ_{i≠j} cos(u_i, u_j), so this costs one pass over the members.
pub fn coherence(x: &Array2<f64>, members: &[usize]) -> f64 {
    if members.len() < 2 {
        return 0.0;
    }
    let mut sum = Array1::<f64>::zeros(x.ncols());
    let mut units = 0usize;
    for &i in members {
        let row = x.row(i);
        let norm = row.dot(&row).sqrt();
        if norm > 1e-12 {
            sum.scaled_add(1.0 / norm, &row);
            units += 1;
        }
    }
    mean_pairwise(sum.dot(&sum), units, members.len())
}

/// The mean cosine over the n·(n−1) ordered pairs of n vectors, `units` of them unit vectors
/// (the others zero) summing to a vector of squared length `sum2`.
fn mean_pairwise(sum2: f64, units: usize, n: usize) -> f64 {
    if n < 2 { 0.0 } else { ((sum2 - units as f64) / (n * (n - 1)) as f64).clamp(-1.0, 1.0) }
}

/// Smooth inverse document frequencies of the words of `docs`: ln((1 + n) / (1 + df)) + 1.
pub fn idf(docs: &[Vec<String>]) -> BTreeMap<&str, f64> {
    let mut df = BTreeMap::<&str, f64>::new();
    for doc in docs {
        let mut seen: Vec<&str> = doc.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            *df.entry(w).or_default() += 1.0;
        }
    }
    let n = docs.len() as f64;
    df.into_iter().map(|(w, d)| (w, ((1.0 + n) / (1.0 + d)).ln() + 1.0)).collect()
}

/// [`coherence`] of `members` on TF-IDF vectors of all their words (weights from [`idf`]), the
/// ones only one message uses included: they make a message unlike the others, which the
/// clustering's TF-IDF, keeping shared words only, cannot see.
pub fn word_coherence(docs: &[Vec<String>], idf: &BTreeMap<&str, f64>, members: &[usize]) -> f64 {
    let mut sum = BTreeMap::<&str, f64>::new();
    let mut units = 0usize;
    for &i in members {
        let mut weights = BTreeMap::<&str, f64>::new();
        for w in &docs[i] {
            *weights.entry(w.as_str()).or_default() += idf.get(w.as_str()).copied().unwrap_or(1.0);
        }
        let norm = weights.values().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 1e-12 {
            for (w, v) in weights {
                *sum.entry(w).or_default() += v / norm;
            }
            units += 1;
        }
    }
    mean_pairwise(sum.values().map(|v| v * v).sum(), units, members.len())
}

/// Each cluster's most distinctive terms by class-based TF-IDF: a term's frequency in the
/// cluster, weighted by how rare it is across clusters.
pub fn keywords(tokens: &[Vec<String>], labels: &[usize], k: usize, top: usize) -> Vec<Vec<String>> {
    let mut per_class: Vec<HashMap<&str, f64>> = vec![HashMap::new(); k];
    let mut totals = HashMap::<&str, f64>::new();
    for (doc, &c) in tokens.iter().zip(labels) {
        for t in doc {
            *per_class[c].entry(t).or_default() += 1.0;
            *totals.entry(t).or_default() += 1.0;
        }
    }
    let words: f64 = per_class.iter().map(|m| m.values().sum::<f64>()).sum();
    let average = words / k.max(1) as f64;
    per_class
        .iter()
        .map(|class| {
            let size: f64 = class.values().sum::<f64>().max(1.0);
            let mut scored: Vec<(&str, f64)> = class.iter().map(|(t, n)| (*t, (n / size) * (1.0 + average / totals[t]).ln())).collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
            scored.into_iter().take(top).map(|(t, _)| t.to_string()).collect()
        })
        .collect()
}

/// One theme of a period's messages, as the digest shows it.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct Theme {
    pub keywords: Vec<String>,
    pub size: usize,
    /// How many of the previous period's messages fall in this theme (nearest centre).
    pub previous_size: usize,
    /// The messages nearest the theme's centre; empty when fewer than `min_users` people wrote
    /// the theme's messages (the privacy floor).
    pub examples: Vec<String>,
    pub people: usize,
    /// How alike the theme's messages are ([`coherence`], or [`word_coherence`] without a
    /// model); at least the [`Bar`]'s `theme`.
    pub coherence: f64,
    /// "tight" or "loose", from the coherence: how sure the digest is that it is one topic.
    pub tightness: Tightness,
    /// The theme's messages, as indices into the input's texts, nearest the centre first.
    #[serde(skip)]
    pub members: Vec<usize>,
}

/// A period's messages to theme: their texts, analyzed tokens, embeddings and authors.
pub struct ThemeInput<'a> {
    pub texts: &'a [String],
    pub tokens: &'a [Vec<String>],
    pub vectors: &'a [Vec<f32>],
    pub authors: &'a [String],
    /// The previous period's embeddings, for each theme's trend.
    pub previous: &'a [Vec<f32>],
    /// When `vectors` are TF-IDF (no sentence-embedding model): each message's analyzed words
    /// (stemmed, no stop words), all of them, which the coherence is measured on instead
    /// ([`word_coherence`]); that TF-IDF keeps the words two messages share only, so there two
    /// questions sharing one everyday word ("file") among five look the same. None: the
    /// coherence is measured on `vectors` (sentence embeddings weigh the whole message).
    pub words: Option<&'a [Vec<String>]>,
}

/// Clusters the messages into `k` groups (None: chosen by silhouette; a fixed k larger than the
/// number of messages is cut down to it) and describes the `top` largest themes among the
/// clusters of at least [`MIN_THEME_SIZE`] messages coherent enough to be one ([`EMBEDDING_BAR`],
/// or [`WORDS_BAR`] with `words`); the others are left out, not shown as topics they are not.
pub fn themes(input: &ThemeInput<'_>, k: Option<usize>, min_users: usize, top: usize) -> Result<Vec<Theme>, ClusterError> {
    let n = input.texts.len();
    if n < 2 {
        return Ok(Vec::new());
    }
    let x = matrix(input.vectors);
    let c = match k {
        Some(k) => kmeans(&x, k.clamp(1, n))?,
        None => kmeans_auto(&x)?,
    };
    let words = keywords(input.tokens, &c.labels, c.k(), 4);
    let mut previous_sizes = vec![0usize; c.k()];
    for v in matrix(input.previous).axis_iter(Axis(0)) {
        let nearest = (0..c.k()).min_by(|&a, &b| distance2(v, c.centroids.row(a)).total_cmp(&distance2(v, c.centroids.row(b))));
        if let Some(t) = nearest {
            previous_sizes[t] += 1;
        }
    }
    let weights = input.words.map(idf);
    let bar = if input.words.is_some() { WORDS_BAR } else { EMBEDDING_BAR };
    let mut out: Vec<Theme> = (0..c.k())
        .filter_map(|t| {
            let members = c.nearest_to_centre(&x, t);
            let coherence = match (input.words, &weights) {
                (Some(words), Some(idf)) => word_coherence(words, idf, &members),
                _ => coherence(&x, &members),
            };
            let tightness = if members.len() >= MIN_THEME_SIZE { Tightness::of(coherence, bar) } else { None };
            let Some(tightness) = tightness else {
                if !members.is_empty() {
                    tracing::debug!(size = members.len(), coherence, keywords = ?words[t], "cluster too small or loose to be a theme; not shown");
                }
                return None;
            };
            let people: std::collections::HashSet<&str> = members.iter().map(|&i| input.authors[i].as_str()).collect();
            let mut examples: Vec<String> = Vec::new();
            if people.len() >= min_users {
                for &i in &members {
                    let example = crate::domain::text::truncate_chars(&input.texts[i], 140);
                    if !examples.iter().any(|e| e.eq_ignore_ascii_case(&example)) {
                        examples.push(example);
                    }
                    if examples.len() == 2 {
                        break;
                    }
                }
            }
            Some(Theme {
                keywords: words[t].clone(),
                size: members.len(),
                previous_size: previous_sizes[t],
                examples,
                people: people.len(),
                coherence,
                tightness,
                members,
            })
        })
        .collect();
    out.sort_by(|a, b| b.size.cmp(&a.size).then(a.keywords.cmp(&b.keywords)));
    out.truncate(top);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_what_sets_a_cluster_apart() {
        let docs: Vec<Vec<String>> = ["card arrive late card", "card never arrive", "refund money back", "refund pending money"]
            .iter()
            .map(|d| d.split(' ').map(String::from).collect())
            .collect();
        let kw = keywords(&docs, &[0, 0, 1, 1], 2, 2);
        assert_eq!(kw[0][0], "card");
        assert!(kw[1].contains(&"refund".to_string()) && kw[1].contains(&"money".to_string()), "{kw:?}");
    }

    #[test]
    fn themes_have_keywords_trends_and_a_privacy_floor() {
        // Two topics on two axes; the card topic from 3 people, the refund topic from 1.
        let texts: Vec<String> =
            ["card late", "card missing", "card not here", "refund please", "refund now", "refund when"].map(String::from).to_vec();
        let tokens: Vec<Vec<String>> = texts.iter().map(|t| t.split(' ').map(String::from).collect()).collect();
        let vectors = vec![vec![1.0, 0.0], vec![0.99, 0.01], vec![0.98, 0.02], vec![0.0, 1.0], vec![0.01, 0.99], vec![0.02, 0.98]];
        let authors: Vec<String> = ["ann", "ben", "cat", "dan", "dan", "dan"].map(String::from).to_vec();
        let previous = vec![vec![0.0, 1.0]];
        let input = ThemeInput { texts: &texts, tokens: &tokens, vectors: &vectors, authors: &authors, previous: &previous, words: None };
        let found = themes(&input, None, 3, 5).unwrap();
        assert_eq!(found.len(), 2);
        let card = found.iter().find(|t| t.keywords[0] == "card").unwrap();
        let refund = found.iter().find(|t| t.keywords[0] == "refund").unwrap();
        assert_eq!((card.size, card.previous_size, card.people), (3, 0, 3));
        assert_eq!(card.examples.len(), 2, "three people: examples shown");
        assert_eq!((refund.size, refund.previous_size, refund.people), (3, 1, 1));
        assert!(refund.examples.is_empty(), "one person: counted, never quoted");
        assert!(found.iter().all(|t| t.tightness == Tightness::Tight && t.coherence > 0.99), "{found:?}");
    }

    #[test]
    fn coherence_is_the_mean_cosine_over_pairs_of_members() {
        let x =
            matrix(&[vec![1.0, 0.0, 0.0], vec![2.0, 0.0, 0.0], vec![0.0, 3.0, 0.0], vec![0.0, 0.0, 1.0], vec![0.0, 0.0, 0.0], vec![1.0, 1.0, 0.0]]);
        assert!((coherence(&x, &[0, 1]) - 1.0).abs() < 1e-12, "same direction, any length");
        assert!(coherence(&x, &[0, 2]).abs() < 1e-12, "two unrelated messages are not alike, however few");
        assert!(coherence(&x, &[0, 2, 3]).abs() < 1e-12);
        assert_eq!(coherence(&x, &[0]), 0.0, "one message is no theme");
        // cos(0, 5) = cos(2, 5) = 0.71, cos(0, 2) = 0; the zero vector is alike to nothing.
        assert!((coherence(&x, &[0, 2, 5]) - 2.0 * 0.5f64.sqrt() / 3.0).abs() < 1e-12);
        assert!((coherence(&x, &[0, 1, 4]) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            (Tightness::of(0.6, EMBEDDING_BAR), Tightness::of(0.3, EMBEDDING_BAR), Tightness::of(0.1, EMBEDDING_BAR)),
            (Some(Tightness::Tight), Some(Tightness::Loose), None)
        );
        assert_eq!((Tightness::of(0.46, WORDS_BAR), Tightness::of(0.27, WORDS_BAR)), (Some(Tightness::Tight), None));
    }

    /// 18 questions a support channel could get in a week, each about something else (they share
    /// a few everyday words, as real ones do).
    const UNRELATED: [&str; 18] = [
        "How do I change the bot's nickname on my server?",
        "Is there a dark mode for the web dashboard?",
        "The docker image fails to start with a permission error",
        "Can I export my ticket history to a CSV file?",
        "Which PostgreSQL versions are supported?",
        "My Slack app says invalid_auth after I rotated the token",
        "How much memory does the embedding model need?",
        "Does the bot run on a Raspberry Pi?",
        "Can the digest be posted on Fridays instead of Mondays?",
        "Why are emoji reactions not counted as votes?",
        "Is there a way to translate the answers into German?",
        "The bot replies twice to every message in one channel",
        "How do I back up the SQLite database file?",
        "Can moderators edit an FAQ entry from Discord?",
        "What license is the project under?",
        "Where are the logs written when it runs under systemd?",
        "Can I limit the bot to a single channel on my server?",
        "The metrics endpoint returns an error 404 behind nginx",
    ];

    /// One problem, asked eight ways.
    const PASSWORD_RESET: [&str; 8] = [
        "I never get the password reset email",
        "password reset email never arrives",
        "the reset password email doesn't come",
        "still waiting for the password reset email",
        "no password reset email in my inbox",
        "password reset mail not arriving, checked spam",
        "requested a password reset twice and got no email",
        "where is my password reset email?",
    ];

    /// The digest's own way without a model: TF-IDF vectors, keyword tokens, k chosen by
    /// silhouette; the themes, and each cluster's (size, coherence on the clustering's vectors,
    /// coherence on all words).
    fn tfidf_themes(texts: &[&str]) -> (Vec<Theme>, Vec<(usize, f64, f64)>) {
        let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        let analyzer = crate::domain::text::keyword_analyzer();
        let tokens: Vec<Vec<String>> = texts.iter().map(|t| analyzer.tokens(t)).collect();
        let stemmer = crate::domain::text::analyzer();
        let words: Vec<Vec<String>> = texts.iter().map(|t| stemmer.tokens(t)).collect();
        let vectors = crate::domain::tfidf::tfidf_for_texts(texts.iter().map(String::as_str)).expect("words in common");
        let authors: Vec<String> = (0..texts.len()).map(|i| format!("u{i}")).collect();
        let input = ThemeInput { texts: &texts, tokens: &tokens, vectors: &vectors, authors: &authors, previous: &[], words: Some(&words) };
        let x = matrix(&vectors);
        let c = super::super::kmeans_auto(&x).unwrap();
        let weights = idf(&words);
        let clusters =
            (0..c.k()).map(|t| c.nearest_to_centre(&x, t)).map(|m| (m.len(), coherence(&x, &m), word_coherence(&words, &weights, &m))).collect();
        (themes(&input, None, 3, 5).unwrap(), clusters)
    }

    /// A busier week: three topics, each asked about in different ways (not paraphrases: one
    /// area of the product), among unrelated questions.
    const DOCKER: [&str; 6] = [
        "The docker container exits right after it starts",
        "How do I pass the config file to the docker container?",
        "docker compose: the volume for the database is not writable",
        "Is there an arm64 docker image?",
        "The docker image is 2 GB, can it be smaller?",
        "docker logs show nothing when the container crashes",
    ];
    const SLACK: [&str; 5] = [
        "Which scopes does the Slack app need?",
        "The Slack app does not answer in private channels",
        "How do I install the Slack app without socket mode?",
        "Slack says the bot token is invalid after reinstalling the app",
        "Can one Slack app serve two workspaces?",
    ];

    /// One narrow topic, asked about in different ways.
    const POSTGRES: [&str; 6] = [
        "can't connect to postgres",
        "postgres connection refused on startup",
        "the bot cannot reach my postgres database",
        "connection to postgres times out",
        "postgres says password authentication failed for the bot",
        "how do I connect to a remote postgres?",
    ];

    /// Word coherence of sets of `texts`, weighted over all of them.
    fn word_coherences(texts: &[&str], sets: &[Vec<usize>]) -> Vec<f64> {
        let stemmer = crate::domain::text::analyzer();
        let words: Vec<Vec<String>> = texts.iter().map(|t| stemmer.tokens(t)).collect();
        let weights = idf(&words);
        sets.iter().map(|set| word_coherence(&words, &weights, set)).collect()
    }

    #[test]
    fn on_words_topics_clear_the_bar_and_chance_groups_do_not() {
        let mut all: Vec<&str> = UNRELATED.to_vec();
        all.extend(PASSWORD_RESET);
        all.extend(POSTGRES);
        all.extend(DOCKER);
        let span = |a: usize, b: usize| (a..b).collect::<Vec<usize>>();
        let c = word_coherences(&all, &[span(0, 18), span(18, 26), span(26, 32), span(32, 38)]);
        eprintln!("on words: unrelated {:.3}, password reset {:.3}, postgres {:.3}, docker {:.3}", c[0], c[1], c[2], c[3]);
        assert!(c[0] < 0.05, "{c:?}");
        assert_eq!(Tightness::of(c[1], WORDS_BAR), Some(Tightness::Tight), "{c:?}");
        assert!(Tightness::of(c[2], WORDS_BAR).is_some(), "{c:?}");
        // Every three of the unrelated questions: the groups k-means could make of them.
        let mut triples = Vec::new();
        for a in 0..18 {
            for b in a + 1..18 {
                for c in b + 1..18 {
                    triples.push(vec![a, b, c]);
                }
            }
        }
        let best = word_coherences(&all[..18], &triples).into_iter().fold(0.0, f64::max);
        eprintln!("on words: the most alike three unrelated questions {best:.3}");
        assert!(best < WORDS_BAR.theme, "{best}");
    }

    #[test]
    fn a_busier_week_shows_its_narrow_topic_and_hides_the_rest() {
        let mut texts: Vec<&str> = UNRELATED[..15].to_vec();
        texts.extend(DOCKER);
        texts.extend(SLACK);
        texts.extend(&PASSWORD_RESET[..6]);
        let (found, clusters) = tfidf_themes(&texts);
        eprintln!(
            "busier week: clusters {clusters:?}, themes {:?}",
            found.iter().map(|t| (&t.keywords, t.size, t.coherence, t.tightness)).collect::<Vec<_>>()
        );
        assert!(found.iter().any(|t| t.keywords.contains(&"password".to_string()) && t.size == 6), "{found:?}");
        assert!(found.iter().all(|t| t.size < 10 && t.coherence >= WORDS_BAR.theme), "{found:?}");
    }

    #[test]
    fn unrelated_questions_make_no_theme() {
        let (found, clusters) = tfidf_themes(&UNRELATED);
        // k-means does make clusters of them, a large one among them; how alike are their messages?
        eprintln!("unrelated: clusters (size, coherence on the clustering's vectors, on all words) {clusters:?}");
        assert!(clusters.iter().any(|&(size, _, _)| size >= 9), "{clusters:?}");
        assert!(clusters.iter().all(|&(size, _, c)| size < MIN_THEME_SIZE || c < WORDS_BAR.theme), "{clusters:?}");
        assert!(found.is_empty(), "unrelated questions shown as a theme: {found:?}");
    }

    #[test]
    fn a_question_asked_many_ways_among_unrelated_ones_is_a_theme() {
        let texts: Vec<&str> =
            UNRELATED.iter().zip(PASSWORD_RESET.iter().chain(std::iter::repeat(&""))).flat_map(|(u, p)| [*u, *p]).filter(|t| !t.is_empty()).collect();
        let (found, clusters) = tfidf_themes(&texts);
        eprintln!(
            "password among unrelated: clusters {clusters:?}, themes {:?}",
            found.iter().map(|t| (&t.keywords, t.size, t.coherence, t.tightness)).collect::<Vec<_>>()
        );
        let password = found.iter().find(|t| t.keywords.iter().any(|k| k == "password")).unwrap_or_else(|| panic!("no password theme: {found:?}"));
        assert!((7..=9).contains(&password.size), "{password:?}");
        assert_eq!(password.tightness, Tightness::Tight, "{password:?}");
        assert!(found.iter().all(|t| t.size < 12), "the unrelated rest is no theme: {found:?}");
    }
}
