//! Migrations embedded in the binary by sqlx's own `migrate!`, one folder per dialect:
//! `migrations/sqlite` and `migrations/postgres` differ where the dialects do (auto-increment
//! ids, integer widths); from 0003 on one text serves both, kept once in `migrations/common`
//! and linked into each dialect's folder.

use sqlx::migrate::Migrator;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

pub fn migrator(postgres: bool) -> &'static Migrator {
    if postgres { &POSTGRES } else { &SQLITE }
}
