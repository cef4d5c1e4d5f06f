//! The weekly digest, a bot job: gather the period's records from the store, find its themes,
//! compose the figures (`domain::digest`), render the text and chart (`chart`), and queue it in
//! the outbox once per period across instances (`post_if_due`, run by `scheduler`).

use super::BotConfig;
use crate::config::DigestSettings;
use crate::domain::cluster::{Theme, ThemeInput, themes};
use crate::domain::digest::{DigestInput, DigestNumbers, GapAnswer, KnowledgeGap, QuestionRecord, Staffing, compose};
use crate::domain::message::Attachment;
use crate::domain::responders::{responders, sla_attainment};
use crate::domain::text;
use crate::prompts::Prompts;
use crate::semantic::Embedder;
use crate::store::{Store, StoreResult};
use chrono::{DateTime, Duration, Utc};
use minijinja::context;
use std::sync::Arc;

/// Periods of history the forecast looks back on.
const HISTORY: i64 = 8;

/// Reads what the digest of [from, to) needs.
pub async fn gather(store: &Store, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<DigestInput> {
    let period = to - from;
    let mut history = Vec::new();
    for back in (1..=HISTORY).rev() {
        let start = from - period * back as i32;
        history.push(store.question_count_between(start, start + period).await? as f64);
    }
    // Leading empty periods are before the community used the bot, not zero-question weeks.
    let history = history.into_iter().skip_while(|n| *n == 0.0).collect();
    Ok(DigestInput {
        from,
        to,
        questions: store.questions_between(from, to).await?,
        votes: store.votes_between(from, to).await?,
        tickets_opened: store.tickets_opened_between(from, to).await?,
        tickets_resolved: store.tickets_resolved_between(from, to).await? as usize,
        open_tickets: store.tickets(None, 10_000).await?,
        history,
    })
}

/// The digest of one period: its figures, and its themes with a result of their own, so a
/// caller can still show the figures when the themes fail.
pub struct Digest {
    pub numbers: DigestNumbers,
    pub themes: anyhow::Result<Option<Vec<Theme>>>,
}

/// Computes the digest of [from, to) as of `now`, reading the period's questions once.
pub async fn digest(
    store: &Store,
    model: Option<&Arc<Embedder>>,
    config: &BotConfig,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Digest> {
    let settings = &config.digest;
    let input = gather(store, from, to).await?;
    let themes = period_themes(store, model, settings, &input.questions, from, to).await;
    let staffing = Staffing {
        handling: Duration::from_std(settings.handling).unwrap_or(Duration::minutes(15)),
        first_response_target: Duration::from_std(settings.first_response_target).unwrap_or(Duration::hours(1)),
        service_level: 0.8,
        hours: config.tickets.hours.clone(),
    };
    let mut numbers = compose(&input, staffing, now);
    numbers.undelivered = store.given_up_between(from, to).await?;
    (numbers.corrections, numbers.corrections_total) = store.corrections_between(from, to).await?;
    numbers.feedback = store.feedback_between(from, to).await?.len();
    numbers.privacy = Some(config.privacy.words());
    numbers.forgotten = store.privacy_actions_between(from, to).await?.iter().filter(|(action, _, _)| action == "forget").count();
    let mut histories = store.ticket_events_opened_between(from, to).await?;
    let worked: Vec<_> = input.tickets_opened.iter().map(|t| (t.clone(), histories.remove(&t.id).unwrap_or_default())).collect();
    numbers.responders = responders(&worked, &config.name, &config.tickets, now);
    numbers.sla = sla_attainment(&input.tickets_opened, &config.tickets, now);
    // A digest without its gaps is still worth posting: the failure is logged.
    numbers.gaps = match knowledge_gaps(store, model, settings, from, to).await {
        Ok(gaps) => gaps,
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(e.as_ref()), "finding the knowledge gaps failed; the digest goes without them");
            Vec::new()
        }
    };
    Ok(Digest { numbers, themes })
}

/// The period's themes: k-means over sentence embeddings, or over TF-IDF vectors when no model
/// is configured, keeping the coherent clusters only (`domain::cluster::Bar`).
/// `questions` are the period's, already read. Empty when the period has nothing to group (no
/// two messages, or without a model no word two messages share); None is left to callers that
/// could not find the themes at all.
async fn period_themes(
    store: &Store,
    model: Option<&Arc<Embedder>>,
    settings: &DigestSettings,
    questions: &[QuestionRecord],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Option<Vec<Theme>>> {
    let model = model.cloned();
    let current = theme_texts(store, questions, from, to).await?;
    let (before, after) = (from - (to - from), from);
    let previous = theme_texts(store, &store.questions_between(before, after).await?, before, after).await?;
    let (min_users, top, k) = (settings.min_users, settings.themes, settings.clusters);
    let (authors, texts): (Vec<String>, Vec<String>) = current.into_iter().unzip();
    let earlier: Vec<String> = previous.into_iter().map(|(_, text)| text).collect();
    // Embedding and k-means are CPU work: off the async workers.
    tokio::task::spawn_blocking(move || find_themes(model.as_deref(), &authors, &texts, &earlier, k, min_users, top)).await?
}

/// Themes among `texts` (by `authors`), their trend against `earlier`: k-means over sentence
/// embeddings, or over TF-IDF vectors without a model. Some(empty) when nothing is alike.
fn find_themes(
    model: Option<&Embedder>,
    authors: &[String],
    texts: &[String],
    earlier: &[String],
    k: Option<usize>,
    min_users: usize,
    top: usize,
) -> anyhow::Result<Option<Vec<Theme>>> {
    let analyzer = text::keyword_analyzer();
    let tokens: Vec<Vec<String>> = texts.iter().map(|t| analyzer.tokens(t)).collect();
    let earlier: Vec<&str> = earlier.iter().map(String::as_str).collect();
    let (vectors, before, words) = match model {
        Some(model) => (model.embed(&texts.iter().map(String::as_str).collect::<Vec<_>>())?, model.embed(&earlier)?, None),
        None => {
            // One vocabulary for both periods, so the trend compares like with like.
            let both = texts.iter().map(String::as_str).chain(earlier.iter().copied());
            // No word in common: nothing alike to group, which is no theme (not a failure).
            let Some(mut all) = crate::domain::tfidf::tfidf_for_texts(both) else { return Ok(Some(Vec::new())) };
            let before = all.split_off(texts.len());
            // All of each message's words, for how alike a theme's messages are.
            let stemmer = text::analyzer();
            (all, before, Some(texts.iter().map(|t| stemmer.tokens(t)).collect::<Vec<_>>()))
        }
    };
    let input = ThemeInput { texts, tokens: &tokens, vectors: &vectors, authors, previous: &before, words: words.as_deref() };
    Ok(Some(themes(&input, k, min_users, top)?))
}

/// A moderator's resolution of a ticket of these questions, if one was resolved with text.
async fn resolved_ticket(store: &Store, members: &[&crate::store::Unanswered]) -> StoreResult<Option<GapAnswer>> {
    for ticket in members.iter().filter_map(|q| q.ticket_id) {
        if let Some(t) = store.ticket(ticket).await?
            && let Some(resolution) = t.resolution.filter(|r| !r.trim().is_empty())
        {
            return Ok(Some(GapAnswer::Ticket(t.id, resolution)));
        }
    }
    Ok(None)
}

/// The reply of the member who answered one of these questions, if one did.
async fn community_answer(store: &Store, members: &[&crate::store::Unanswered]) -> StoreResult<Option<GapAnswer>> {
    for q in members {
        if let Some(by) = &q.answered_by
            && let Some(text) = store.first_reply_by(&q.platform, &q.message_id, by).await?.filter(|t| !t.trim().is_empty())
        {
            return Ok(Some(GapAnswer::Community(text)));
        }
    }
    Ok(None)
}

/// Most knowledge gaps a digest lists.
const GAPS: usize = 5;

/// The period's questions the FAQ could not answer, grouped as themes are, each with the one
/// command that turns it into an entry (`faq learn` of a resolved ticket among them, if any).
async fn knowledge_gaps(
    store: &Store,
    model: Option<&Arc<Embedder>>,
    settings: &DigestSettings,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Vec<KnowledgeGap>> {
    let unanswered = store.unanswered_between(from, to).await?;
    let (authors, texts): (Vec<String>, Vec<String>) = unanswered.iter().map(|q| (q.asker_id.clone(), q.text.clone())).unzip();
    let (model, min_users) = (model.cloned(), settings.min_users);
    let groups = tokio::task::spawn_blocking(move || find_themes(model.as_deref(), &authors, &texts, &[], None, min_users, GAPS)).await??;
    let mut gaps = Vec::new();
    for theme in groups.unwrap_or_default() {
        let members: Vec<&crate::store::Unanswered> = theme.members.iter().map(|&i| &unanswered[i]).collect();
        let answer = match resolved_ticket(store, &members).await? {
            Some(answer) => Some(answer),
            None => community_answer(store, &members).await?,
        };
        gaps.push(KnowledgeGap::new(theme.keywords, theme.size, theme.people, theme.examples, answer));
    }
    Ok(gaps)
}

/// (author, text) of a period's questions and feedback: what its themes are made of.
async fn theme_texts(store: &Store, questions: &[QuestionRecord], from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<(String, String)>> {
    let mut texts: Vec<(String, String)> = questions.iter().map(|q| (q.asker_id.clone(), q.text.clone())).collect();
    texts.extend(store.feedback_between(from, to).await?);
    Ok(texts)
}

/// The digest's text; `themes` None when they could not be found (an error, logged), Some and
/// empty when there is no theme to show.
pub fn render(prompts: &Prompts, numbers: &DigestNumbers, themes: Option<&[Theme]>) -> String {
    prompts.render("digest", context! { d => numbers, themes => themes })
}

/// The scheduled job: posts the digest of the week before the latest scheduled instant, unless
/// it was already posted (by this or any other instance). Returns whether it posted.
pub async fn post_if_due(
    store: &Store,
    prompts: &Prompts,
    model: Option<&Arc<Embedder>>,
    config: &BotConfig,
    instance: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let settings = &config.digest;
    if settings.channels.is_empty() {
        return Ok(false);
    }
    let weekly = crate::domain::schedule::Weekly::parse(&settings.schedule, &settings.timezone).map_err(anyhow::Error::msg)?;
    let at = weekly.latest_at_or_before(now);
    if !store.claim_digest(at, instance, now).await? {
        return Ok(false);
    }
    queue(store, prompts, model, config, at - Duration::days(7), at, now).await?;
    Ok(true)
}

/// Composes the digest of [from, to) and puts it in the outbox for every `[digest] channels`
/// entry; each platform's delivery loop posts it. Queuing the same period twice adds nothing.
/// Returns how many channels it was queued for.
pub async fn queue(
    store: &Store,
    prompts: &Prompts,
    model: Option<&Arc<Embedder>>,
    config: &BotConfig,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let settings = &config.digest;
    let Digest { numbers: figures, themes } = digest(store, model, config, from, to, now).await?;
    let found = themes?;
    let text = render(prompts, &figures, found.as_deref());
    // Drawing the chart is CPU work: off the async workers, like the themes.
    let chart = {
        let (figures, themes) = (figures.clone(), found.clone());
        tokio::task::spawn_blocking(move || chart_attachment(&figures, themes.as_deref())).await?
    };
    let origin = format!("digest:{}:{}", from.timestamp_millis(), to.timestamp_millis());
    let mut queued = 0;
    for target in &settings.channels {
        let Some((platform, channel)) = target.split_once(':') else { continue };
        let mut action = crate::domain::message::Action::new(crate::domain::message::ActionKind::Digest, channel, text.clone());
        action.attachment = chart.clone();
        store.record_actions(platform, &format!("{origin}:{target}"), &[action], None, now).await?;
        queued += 1;
    }
    tracing::info!(period_end = %to, channels = queued, "digest queued");
    Ok(queued)
}

/// "supportbot-digest-<last day>.png": for the file `digest` writes and the attachment alike.
pub fn chart_filename(figures: &DigestNumbers) -> String {
    format!("supportbot-digest-{}.png", figures.to)
}

/// The period's chart as an attachment; a digest without its chart is still worth posting.
fn chart_attachment(figures: &DigestNumbers, themes: Option<&[Theme]>) -> Option<Attachment> {
    match crate::chart::render_png(&figures.days, themes.unwrap_or_default()) {
        Ok(bytes) => Some(Attachment { filename: chart_filename(figures), bytes }),
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(e.as_ref()), "digest chart could not be drawn; posting without it");
            None
        }
    }
}
