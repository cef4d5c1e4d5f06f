//! TF-IDF sentence vectors (linfa-preprocessing): the themes' features when no sentence-embedding
//! model is configured, so a community without the model still gets its weekly themes.

use linfa_preprocessing::tf_idf_vectorization::TfIdfVectorizer;
use ndarray::Array1;

/// Words kept: the most frequent ones, enough for a week of questions without a huge matrix.
const MAX_FEATURES: usize = 2000;

/// TF-IDF vectors of raw texts: their stemmed words without stop words (the FAQ index's analyzer).
pub fn tfidf_for_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Option<Vec<Vec<f32>>> {
    let analyzer = super::text::analyzer();
    let docs: Vec<Vec<String>> = texts.into_iter().map(|t| analyzer.tokens(t)).collect();
    tfidf_vectors(&docs)
}

/// One L2-normalised TF-IDF vector per document, over a vocabulary fitted on all of `docs`
/// (pass two periods together so their vectors are comparable). Documents are already analyzed
/// tokens (stemmed, stop words gone). Words seen in a single document only are dropped: they
/// cannot make two messages alike. None when no word is left to compare on.
pub fn tfidf_vectors(docs: &[Vec<String>]) -> Option<Vec<Vec<f32>>> {
    if docs.len() < 2 {
        return None;
    }
    let joined: Array1<String> = docs.iter().map(|d| d.join(" ")).collect();
    let min_df = 2.0 / docs.len() as f32;
    let fitted = TfIdfVectorizer::default().convert_to_lowercase(false).document_frequency(min_df.min(1.0), 1.0).fit(&joined).ok()?;
    if fitted.nentries() == 0 {
        return None;
    }
    let weights = fitted.transform(&joined).ok()?;
    // linfa numbers its columns in hash-map order, which changes from run to run; the same
    // messages must give the same themes, so the columns are put in a fixed order here (most
    // documents first, then alphabetical) and the vocabulary is cut to that order's head.
    let words = fitted.vocabulary();
    let mut df = vec![0usize; words.len()];
    for row in weights.outer_iterator() {
        for (col, _) in row.iter() {
            df[col] += 1;
        }
    }
    let mut order: Vec<usize> = (0..words.len()).collect();
    order.sort_by(|&a, &b| df[b].cmp(&df[a]).then_with(|| words[a].cmp(&words[b])));
    order.truncate(MAX_FEATURES);
    let mut column = vec![None; words.len()];
    for (new, &old) in order.iter().enumerate() {
        column[old] = Some(new);
    }
    let mut vectors = vec![vec![0f32; order.len()]; docs.len()];
    for (row, vector) in weights.outer_iterator().zip(vectors.iter_mut()) {
        for (col, value) in row.iter() {
            if let Some(c) = column[col] {
                vector[c] = *value as f32;
            }
        }
        let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            vector.iter_mut().for_each(|v| *v /= norm);
        }
    }
    Some(vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn messages_about_the_same_thing_are_closer_than_messages_about_different_things() {
        let docs = [doc("card arriv late"), doc("card arriv still"), doc("password reset link"), doc("password reset email")];
        let v = tfidf_vectors(&docs).unwrap();
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        assert!(dot(&v[0], &v[1]) > 0.5, "{:?}", v);
        assert!(dot(&v[0], &v[2]) < 0.01);
        for x in &v {
            assert!((dot(x, x) - 1.0).abs() < 1e-5, "unit length");
        }
    }

    #[test]
    fn the_same_documents_give_the_same_vectors_every_time() {
        let docs: Vec<Vec<String>> = (0..60).map(|i| doc(&format!("w{} w{} w{} common", i % 7, i % 11, i % 13))).collect();
        let first = tfidf_vectors(&docs).unwrap();
        for _ in 0..5 {
            assert_eq!(tfidf_vectors(&docs).unwrap(), first);
        }
    }

    #[test]
    fn nothing_in_common_gives_nothing_to_cluster_on() {
        assert!(tfidf_vectors(&[doc("alpha"), doc("beta")]).is_none());
        assert!(tfidf_vectors(&[doc("alpha")]).is_none());
    }
}
