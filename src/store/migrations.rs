//! Migrations embedded in the binary: `migrations/sqlite` and `migrations/postgres` where the
//! dialects differ (auto-increment ids, integer widths), `migrations/common` where one text
//! serves both.

use futures_core::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use std::borrow::Cow;

type Embedded = &'static [(i64, &'static str, &'static str)];

/// Where the dialects differ.
const SQLITE: Embedded = &[
    (1, "core", include_str!("../../migrations/sqlite/0001_core.sql")),
    (2, "embeddings", include_str!("../../migrations/sqlite/0002_embeddings.sql")),
];
const POSTGRES: Embedded = &[
    (1, "core", include_str!("../../migrations/postgres/0001_core.sql")),
    (2, "embeddings", include_str!("../../migrations/postgres/0002_embeddings.sql")),
];
/// One text for both, after the dialect's own.
const COMMON: Embedded = &[
    (3, "digest_runs", include_str!("../../migrations/common/0003_digest_runs.sql")),
    (4, "feedback", include_str!("../../migrations/common/0004_feedback.sql")),
    (5, "delivery", include_str!("../../migrations/common/0005_delivery.sql")),
    (6, "channel_cursors", include_str!("../../migrations/common/0006_channel_cursors.sql")),
    (7, "detector_examples", include_str!("../../migrations/common/0007_detector_examples.sql")),
];

/// A dialect's own migrations; the common ones follow them.
#[derive(Debug)]
struct EmbeddedSource(Embedded);

impl MigrationSource<'static> for EmbeddedSource {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .chain(COMMON)
                .map(|(version, name, sql)| Migration::new(*version, Cow::Borrowed(*name), MigrationType::Simple, Cow::Borrowed(*sql), false))
                .collect())
        })
    }
}

pub async fn migrator(postgres: bool) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(EmbeddedSource(if postgres { POSTGRES } else { SQLITE })).await
}
