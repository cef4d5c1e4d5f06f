//! The bot's side of the support-question decision (`domain::decision`): the detector kept
//! fitted on the current FAQ and corrections, the evidence gathered for one message, and the
//! moderators' corrections.

use super::faq::embed_query;
use super::{Bot, BotResult, detector_cache};
use crate::domain::decision::examples::{self, Example};
use crate::domain::decision::{self, Corrections, Decision, Detector, Evidence, FormEvidence, TextFeatures, Thread, TrainingRow};
use crate::domain::faq_index::{FaqIndex, FaqMatch, phrasing_texts};
use crate::domain::message::Incoming;
use crate::store::{DetectorExample, ExamplesVersion};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// What a fitted detector was fitted on: when any part changes, it is fitted again.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DetectorKey {
    /// The hand-written FAQ's phrasings, as a digest. Not what the FAQ learned: a refit on
    /// every learned phrasing would stall the next message (the fit takes a good part of a
    /// second), and the hand-written phrasings already tell the detector what this FAQ is about.
    faq_phrasings: [u8; 32],
    examples: ExamplesVersion,
    /// The model whose embeddings it reads (None: words alone).
    model: Option<String>,
}

pub(super) struct LoadedDetector {
    key: DetectorKey,
    /// The FAQ version its key was last checked at: the hand-written phrasings are read and
    /// digested again only when the FAQ changed (learning changes it often, but not them).
    checked_at: String,
    model: Arc<FormModel>,
}

/// How a message's form is judged: the fitted detector with a model, the rules on words alone
/// (they measured better there), and the moderators' corrections either way.
pub struct FormModel {
    detector: Option<Arc<Detector>>,
    corrections: Corrections,
    /// The detector's odds turned into a help channel's (`Detector::base_rate`).
    base_rate: f32,
}

impl FormModel {
    pub fn evidence(&self, features: &TextFeatures, embedding: Option<&[f32]>) -> FormEvidence {
        // The base rate is counted with the model only: there, at the default share, it takes a
        // chat room's lines from 4.0% to 1.2% (its social questions from 14.8% to 5.0%) for one
        // point of a bank's requests in a help channel (99.5% to 98.5% handled); on words alone
        // (pooled with the rules) it silenced problem statements the FAQ half-matches, such as
        // "sqlite keeps saying database is locked" (BENCHMARKS.md, "The support-question decision").
        let mut form = match &self.detector {
            Some(d) if d.dimension() > 0 && embedding.is_some() => FormEvidence { base_rate: self.base_rate, ..d.evidence(features, embedding) },
            Some(d) if d.dimension() == 0 => decision::detector::pooled_with_rules(d.evidence(features, None), features),
            _ => decision::detector::rules_evidence(features),
        };
        form.taught = self.corrections.evidence(&features.signals.tokens, embedding);
        form
    }
}

/// One message's decision and the FAQ's best entry for it.
pub(super) struct Decided {
    pub decision: Decision,
    pub best: Option<FaqMatch>,
}

impl Bot {
    /// The form model for the current FAQ, model and corrections, fitted first if any changed.
    pub async fn detector(&self) -> BotResult<Arc<FormModel>> {
        let index = self.faq().await?;
        let faq_version = self.shared.faq.read().expect("faq lock poisoned").version.clone();
        let checked = {
            let loaded = self.shared.detector.read().expect("detector lock poisoned");
            loaded.as_ref().filter(|l| l.checked_at == faq_version).map(|l| l.key.faq_phrasings)
        };
        let (faq_phrasings, mut hand_written) = match checked {
            Some(digest) => (digest, None),
            None => {
                let texts = phrasing_texts(&self.store.faq_entries().await?);
                (Sha256::digest(texts.join("\n").as_bytes()).into(), Some(texts))
            }
        };
        let key = DetectorKey {
            faq_phrasings,
            examples: self.store.detector_examples_version().await?,
            model: index.is_semantic().then(|| self.embedder().map(|m| m.id().to_string())).flatten(),
        };
        let current = |key: &DetectorKey| {
            let mut loaded = self.shared.detector.write().expect("detector lock poisoned");
            let fits = loaded.as_mut().filter(|l| l.key == *key)?;
            fits.checked_at = faq_version.clone();
            Some(fits.model.clone())
        };
        if let Some(ready) = current(&key) {
            return Ok(ready);
        }
        // One fit at a time: events arriving together wait for it instead of each fitting.
        let _fitting = self.shared.fitting.lock().await;
        if let Some(ready) = current(&key) {
            return Ok(ready);
        }
        let started = std::time::Instant::now();
        let corrections: Vec<(String, bool)> = self.store.detector_examples().await?.into_iter().map(|e| (e.text, e.support)).collect();
        let mut memory = Corrections::default();
        for (text, support) in &corrections {
            let vector = match (&key.model, self.embedder()) {
                (Some(model_id), Some(model)) => match self.store.embedding(model_id, text).await? {
                    Some(v) => Some(v),
                    None => self.embed_texts(model, vec![text.clone()]).await.and_then(|mut v| v.pop()),
                },
                _ => None,
            };
            memory.push(&TextFeatures::of(text).signals.tokens, vector, *support);
        }
        let hand_written = match hand_written.take() {
            Some(texts) => texts,
            None => phrasing_texts(&self.store.faq_entries().await?),
        };
        let set = examples::training_set(&hand_written, &corrections);
        let texts: Vec<String> = set.iter().map(|e| e.text.clone()).collect();
        let features = tokio::task::spawn_blocking(move || texts.iter().map(|t| TextFeatures::of(t)).collect::<Vec<_>>())
            .await
            .map_err(|e| super::BotError::Detector(e.to_string()))?;
        let dimension = match (&key.model, self.embedder()) {
            (Some(_), Some(model)) => model.dimension(),
            _ => 0,
        };
        let fit_key = detector_cache::key(&set, &features, key.model.as_deref(), dimension);
        let detector = match detector_cache::fitted(&fit_key, dimension) {
            Some(cached) => cached,
            None => {
                let vectors = self.example_vectors(&index, &set, key.model.as_deref()).await?;
                let rows: Vec<TrainingRow> = set
                    .iter()
                    .zip(&features)
                    .enumerate()
                    .map(|(i, (e, f))| TrainingRow {
                        features: f.with_embedding(vectors.as_ref().and_then(|v| v[i].as_deref()), dimension),
                        support: e.support,
                        weight: e.weight,
                    })
                    .collect();
                let fitted = tokio::task::spawn_blocking(move || Detector::fit(&rows, dimension))
                    .await
                    .map_err(|e| super::BotError::Detector(e.to_string()))?
                    .map_err(|e| super::BotError::Detector(e.to_string()))?;
                let fitted = Arc::new(fitted);
                detector_cache::save_fitted(&fit_key, &fitted);
                fitted
            }
        };
        tracing::info!(
            examples = set.len(),
            corrections = corrections.len(),
            semantic = dimension > 0,
            ms = started.elapsed().as_millis() as u64,
            "support-question detector ready"
        );
        let base_rate = detector.base_rate(self.shared.config.decision.support_share);
        let model = Arc::new(FormModel { detector: Some(detector), corrections: memory, base_rate });
        *self.shared.detector.write().expect("detector lock poisoned") = Some(LoadedDetector { key, checked_at: faq_version, model: model.clone() });
        Ok(model)
    }

    /// The examples' embeddings with a model: the FAQ's phrasings from the index, the shipped
    /// examples from their cache, the rest from the embedding cache or, once, from the model.
    async fn example_vectors(&self, index: &FaqIndex, set: &[Example], model: Option<&str>) -> BotResult<Option<Vec<Option<Vec<f32>>>>> {
        let (Some(model_id), Some(embedder), Some(phrasing_vectors)) = (model, self.embedder(), index.phrasing_vectors()) else {
            return Ok(None);
        };
        let shipped = match detector_cache::shipped_vectors(model_id) {
            Some(known) => known,
            None => {
                let texts: Vec<String> = examples::shipped().iter().map(|e| e.text.clone()).collect();
                let vectors = self.embed_texts(embedder, texts.clone()).await.unwrap_or_default();
                let known: HashMap<String, Vec<f32>> = texts.into_iter().zip(vectors).collect();
                if !known.is_empty() {
                    detector_cache::save_shipped_vectors(model_id, known.clone());
                }
                Arc::new(known)
            }
        };
        let phrasings: HashMap<String, &Vec<f32>> = phrasing_texts(index.entries()).into_iter().zip(phrasing_vectors).collect();
        let mut out = Vec::with_capacity(set.len());
        for e in set {
            out.push(match (phrasings.get(&e.text), shipped.get(&e.text)) {
                (Some(v), _) => Some((*v).clone()),
                (None, Some(v)) => Some(v.clone()),
                (None, None) => self.store.embedding(model_id, &e.text).await?.filter(|v| v.len() == embedder.dimension()),
            });
        }
        let missing: Vec<usize> = (0..set.len()).filter(|&i| out[i].is_none()).collect();
        if !missing.is_empty() {
            let texts: Vec<String> = missing.iter().map(|&i| set[i].text.clone()).collect();
            for (&i, v) in missing.iter().zip(self.embed_texts(embedder, texts).await.unwrap_or_default()) {
                self.store.save_embedding(model_id, &set[i].text, &v).await?;
                out[i] = Some(v);
            }
        }
        Ok(Some(out))
    }

    /// Embeds on a blocking thread; a failure is logged and the fit goes on without those rows'
    /// meaning rather than without a detector.
    async fn embed_texts(&self, model: &Arc<crate::semantic::Embedder>, texts: Vec<String>) -> Option<Vec<Vec<f32>>> {
        let model = model.clone();
        let started = std::time::Instant::now();
        let count = texts.len();
        let done = tokio::task::spawn_blocking(move || model.embed(&texts.iter().map(String::as_str).collect::<Vec<_>>())).await;
        match done {
            Ok(Ok(vectors)) => {
                tracing::info!(examples = count, ms = started.elapsed().as_millis() as u64, "embedded the detector's examples");
                Some(vectors)
            }
            Ok(Err(e)) => {
                tracing::error!(error = %crate::telemetry::chain(e.as_ref()), "embedding the detector's examples failed");
                None
            }
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(&e), "embedding the detector's examples failed");
                None
            }
        }
    }

    /// The query's embedding: computed by `prepare` outside the unit of work, else now.
    pub(super) async fn query_vector(&self, index: &FaqIndex, text: &str) -> Option<Vec<f32>> {
        if !index.is_semantic() {
            return None;
        }
        match self.shared.query_vectors.get(text) {
            Some(ready) => Some(ready.to_vec()),
            None => embed_query(self.embedder(), text).await,
        }
    }

    /// Decides what to do about `text` from `event`: all the evidence, one probability.
    pub(super) async fn decide(&self, event: &Incoming, message_id: &str, text: &str, thread: Thread) -> BotResult<Decided> {
        let index = self.faq().await?;
        let vector = self.query_vector(&index, text).await;
        let best = index.search(text, vector.as_deref(), 1).into_iter().next();
        let detector = self.detector().await?;
        let form = detector.evidence(&TextFeatures::of(text), vector.as_deref());
        let evidence = Evidence {
            form,
            faq_confidence: best.as_ref().map(|m| m.confidence),
            threshold: self.shared.config.threshold_for(&event.channel),
            place: self.shared.config.decision.place_of(&event.channel),
            thread,
            by_moderator: event.author.is_moderator,
        };
        let decision = decision::decide(&evidence);
        // Quiet is most messages of a busy channel: logged for debugging only.
        macro_rules! log_decision {
            ($level:ident) => {
                tracing::$level!(
                    platform = %event.platform,
                    message_id,
                    act = ?decision.act,
                    probability = decision.probability,
                    reasons = ?decision.reasons,
                    faq_id = best.as_ref().map(|m| m.entry.id.as_str()),
                    "decided"
                )
            };
        }
        if decision.act == decision::Act::Quiet {
            log_decision!(debug);
        } else {
            log_decision!(info);
        }
        Ok(Decided { decision, best })
    }

    /// Keeps a moderator's label of a message for the detector; it is refitted before the
    /// next decision.
    /// `author`: whose words `text` is (the message's writer, the ticket's asker).
    pub(super) async fn learn_example(
        &self,
        event: &Incoming,
        message_id: &str,
        text: &str,
        author: Option<&str>,
        support: bool,
        now: DateTime<Utc>,
    ) -> BotResult<()> {
        let example = DetectorExample {
            platform: event.platform.clone(),
            message_id: message_id.to_string(),
            text: crate::domain::text::truncate_chars(text, super::MAX_ANALYZED_CHARS),
            support,
            source: if support { "escalated" } else { "not_a_question" }.into(),
            by_user: event.author.id.clone(),
            at: now,
            author_id: author.filter(|a| !a.is_empty()).map(String::from),
        };
        Ok(self.store.save_detector_example(&example).await?)
    }
}

impl Bot {
    /// What the bot would decide about `event` (a top-level message), without handling it or
    /// storing anything: `eval detect` measures this.
    pub async fn decision_for(&self, event: &Incoming) -> BotResult<Decision> {
        let crate::domain::message::IncomingKind::Message { id, text, .. } = &event.kind else {
            return Ok(Decision { act: decision::Act::Quiet, probability: 0.0, reasons: vec![("not_a_message", 0.0)] });
        };
        let text = crate::domain::text::truncate_chars(text, super::MAX_ANALYZED_CHARS);
        if crate::domain::command::bare_command_word(&text).is_some() {
            return Ok(Decision { act: decision::Act::Quiet, probability: 0.0, reasons: vec![("command_word", 0.0)] });
        }
        self.prepare(event).await?;
        Ok(self.decide(event, id, &text, Thread::TopLevel).await?.decision)
    }
}
