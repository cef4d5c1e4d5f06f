//! `supportbot eval`: the evaluation protocols, each printing one JSON line of figures.
//!
//! Every file is tab-separated text, one row per line, a header row optional:
//! `text<TAB>label` for intents (the label names the FAQ entry a question belongs to), and
//! `text<TAB>is_question<TAB>act` for chat posts (is_question 1 or 0).

use crate::app;
use crate::config::Settings;
use crate::eval;
use crate::semantic::Embedder;
use crate::semantic::hub::ModelSource;
use clap::Subcommand;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// FAQ answering: an FAQ built from one intent file, asked the rows of another.
    Faq {
        #[command(flatten)]
        data: FaqData,
        /// Which fifth of the labels (by index in name order, mod 5) gets no FAQ entry. The
        /// protocol holds out 4; the others ask the same question of other FAQs.
        #[arg(long, value_name = "0-4", default_value_t = 4, value_parser = clap::value_parser!(u8).range(0..5))]
        unknown_fifth: u8,
    },
    /// The FAQ learning from its community (protocol 4): protocol 1's FAQ and questions, each
    /// answer's outcome fed back as votes, tickets and `faq learn`.
    Learn {
        #[command(flatten)]
        data: FaqData,
        /// Draw the learning curve (per block of 500 queries) to this PNG.
        #[arg(long, value_name = "FILE")]
        chart: Option<PathBuf>,
    },
    /// Feedback clustering: themes found in an intent file (text<TAB>label), scored against the labels.
    Cluster {
        /// Intents (text<TAB>label); the labels are only used for the score.
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// The number of themes (default: the bot's own choice).
        #[arg(long)]
        k: Option<usize>,
        /// Sentence-embedding model directory (overrides [model] dir).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
    },
    /// Support-question detection on chat posts (text<TAB>is_question<TAB>act).
    Detect {
        /// Chat posts (text<TAB>is_question<TAB>act): the bot should take none of the chatter.
        #[arg(long, value_name = "FILE")]
        posts: PathBuf,
        /// Rows that are all support requests (text<TAB>label), for request_recall.
        #[arg(long, value_name = "FILE")]
        requests: Option<PathBuf>,
        /// Intents (text<TAB>label) turned into the bot's FAQ as in `eval faq`: the decision
        /// then weighs the FAQ's evidence, as in a channel.
        #[arg(long, value_name = "FILE")]
        faq: Option<PathBuf>,
        /// Sentence-embedding model directory (overrides [model] dir).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Ignore any model: decide on words alone.
        #[arg(long)]
        words: bool,
    },
    /// A help channel of chatter and support requests, replayed through the bot.
    Channel {
        /// Chatter (text<TAB>is_question<TAB>act; every post counts as chatter).
        #[arg(long, value_name = "FILE")]
        posts: PathBuf,
        /// Support requests (text<TAB>label).
        #[arg(long, value_name = "FILE")]
        requests: PathBuf,
        /// Intents (text<TAB>label) turned into the bot's FAQ as in `eval faq`.
        #[arg(long, value_name = "FILE")]
        faq: PathBuf,
        /// Sentence-embedding model directory (overrides [model] dir).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Ignore any model: decide and match on words alone.
        #[arg(long)]
        words: bool,
    },
}

/// An FAQ made of one intent file and the questions of another (protocols 1 and 4).
#[derive(Debug, clap::Args)]
pub struct FaqData {
    /// Intents (text<TAB>label): up to 10 rows per label become its FAQ entry.
    #[arg(long, value_name = "FILE")]
    train: PathBuf,
    /// Questions (text<TAB>label) to ask; a label without an entry should get no answer.
    #[arg(long, value_name = "FILE")]
    test: PathBuf,
    /// Extra out-of-scope questions (text[<TAB>anything]): none should be answered.
    #[arg(long, value_name = "FILE")]
    oos: Option<PathBuf>,
    /// Sentence-embedding model directory (overrides [model] dir).
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Ignore any model: measure full-text matching alone.
    #[arg(long)]
    full_text: bool,
}

impl FaqData {
    /// The train, test and out-of-scope rows, and the model to match with.
    async fn load(self, settings: &Settings) -> anyhow::Result<(Vec<eval::Row>, Vec<eval::Row>, Vec<eval::Row>, Option<Arc<Embedder>>)> {
        let oos = self.oos.map(|p| eval::read_tsv(&p)).transpose()?.unwrap_or_default();
        let model = app::load_embedder(model_source(settings, self.model, self.full_text), settings.model.int8).await?;
        Ok((eval::read_tsv(&self.train)?, eval::read_tsv(&self.test)?, oos, model))
    }
}

pub async fn main(settings: &Settings, command: EvalCommand) -> anyhow::Result<()> {
    let line = match command {
        EvalCommand::Faq { data, unknown_fifth } => {
            let (train, test, oos, model) = data.load(settings).await?;
            let threshold = settings.faq.threshold;
            let fifth = unknown_fifth.into();
            tokio::task::spawn_blocking(move || eval::faq::evaluate(&train, &test, &oos, threshold, fifth, model.as_deref())).await??.to_string()
        }
        EvalCommand::Learn { data, chart } => {
            let (train, test, oos, model) = data.load(settings).await?;
            let matcher = if model.is_some() { "with the model" } else { "words alone" };
            let (metrics, outcomes) = eval::learn::evaluate(&train, &test, &oos, model, settings).await?;
            if let Some(path) = chart {
                eval::curve::render(&path, &outcomes, &format!("The FAQ learning from its community ({matcher})"))?;
                eprintln!("learning curve drawn to {}", path.display());
            }
            metrics.to_string()
        }
        EvalCommand::Cluster { input, k, model } => {
            // Without a model the themes are drawn from TF-IDF vectors, and so is this evaluation.
            let model = app::load_embedder(model_source(settings, model, false), settings.model.int8).await?;
            let rows = eval::read_tsv(&input)?;
            tokio::task::spawn_blocking(move || eval::cluster::evaluate(&rows, k, model.as_deref())).await??.to_string()
        }
        EvalCommand::Detect { posts, requests, faq, model, words } => {
            let requests = requests.map(|p| eval::read_tsv(&p)).transpose()?;
            let faq = faq.map(|p| eval::read_tsv(&p)).transpose()?;
            let model = app::load_embedder(model_source(settings, model, words), settings.model.int8).await?;
            eval::detect::evaluate(&eval::read_tsv(&posts)?, requests.as_deref(), faq.as_deref(), model, settings).await?.to_string()
        }
        EvalCommand::Channel { posts, requests, faq, model, words } => {
            let model = app::load_embedder(model_source(settings, model, words), settings.model.int8).await?;
            let (posts, requests, faq) = (eval::read_tsv(&posts)?, eval::read_tsv(&requests)?, eval::read_tsv(&faq)?);
            eval::channel::evaluate(&posts, &requests, &faq, model, settings).await?.to_string()
        }
    };
    println!("{line}");
    Ok(())
}

/// `--model DIR` wins; else the settings' model (a directory, or the hub when `fetch` is on).
fn model_source(settings: &Settings, flag: Option<PathBuf>, full_text: bool) -> ModelSource {
    match (full_text, flag) {
        (true, _) => ModelSource::None,
        (false, Some(dir)) => ModelSource::Dir(dir),
        (false, None) => (&settings.model).into(),
    }
}
