//! Units of work: a `Store` handle whose every query runs inside one database transaction, so
//! that all the bot decides for an event (the stored message, the question's state, a ticket,
//! the outbox rows, the inbox mark) is committed together or not at all.
//!
//! Store methods run their queries through [`OnStore`] instead of on the pool directly; on a
//! handle from [`Store::begin`] that means on its transaction. A method that needs its own
//! transaction calls `begin` too: inside a unit it joins the unit's transaction (its `commit`
//! is then a no-op and the outer unit commits).

use super::{Store, StoreResult};
use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Transaction};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Mutex;

/// The transaction a unit-of-work handle runs its queries on. `None` once committed.
pub(super) type SharedTx = Arc<Mutex<Option<Transaction<'static, Any>>>>;

/// A handle's connection: the pool, or a transaction it owns (commits) or joined (does not).
#[derive(Clone, Default)]
pub(super) enum Conn {
    #[default]
    Pool,
    Owned(SharedTx),
    Joined(SharedTx),
}

fn finished() -> sqlx::Error {
    sqlx::Error::Protocol("the unit of work was already committed".into())
}

/// Runs a query on a store handle: its pool, or its unit's transaction.
pub(super) trait OnStore<'q> {
    fn execute_on<'s>(self, store: &'s Store) -> impl Future<Output = Result<AnyQueryResult, sqlx::Error>> + Send + 's
    where
        'q: 's;
    fn fetch_all_on<'s>(self, store: &'s Store) -> impl Future<Output = Result<Vec<AnyRow>, sqlx::Error>> + Send + 's
    where
        'q: 's;
    fn fetch_optional_on<'s>(self, store: &'s Store) -> impl Future<Output = Result<Option<AnyRow>, sqlx::Error>> + Send + 's
    where
        'q: 's;
    fn fetch_one_on<'s>(self, store: &'s Store) -> impl Future<Output = Result<AnyRow, sqlx::Error>> + Send + 's
    where
        'q: 's;
}

/// One body for the four: run `$method` on the pool or on the unit's transaction.
macro_rules! on_store {
    ($self:ident, $store:ident, $method:ident) => {
        match &$store.conn {
            Conn::Pool => $self.$method(&$store.pool).await,
            Conn::Owned(tx) | Conn::Joined(tx) => {
                let mut guard = tx.lock().await;
                let tx = guard.as_mut().ok_or_else(finished)?;
                $self.$method(&mut **tx).await
            }
        }
    };
}

impl<'q> OnStore<'q> for Query<'q, Any, AnyArguments<'q>> {
    async fn execute_on<'s>(self, store: &'s Store) -> Result<AnyQueryResult, sqlx::Error>
    where
        'q: 's,
    {
        on_store!(self, store, execute)
    }

    async fn fetch_all_on<'s>(self, store: &'s Store) -> Result<Vec<AnyRow>, sqlx::Error>
    where
        'q: 's,
    {
        on_store!(self, store, fetch_all)
    }

    async fn fetch_optional_on<'s>(self, store: &'s Store) -> Result<Option<AnyRow>, sqlx::Error>
    where
        'q: 's,
    {
        on_store!(self, store, fetch_optional)
    }

    async fn fetch_one_on<'s>(self, store: &'s Store) -> Result<AnyRow, sqlx::Error>
    where
        'q: 's,
    {
        on_store!(self, store, fetch_one)
    }
}

impl Store {
    /// A handle whose queries all run in one transaction until [`Store::commit`]. Dropped
    /// without a commit, everything it wrote is rolled back. On a handle that is already a unit,
    /// the new handle joins that unit's transaction.
    ///
    /// SQLite takes its write lock at once (`BEGIN IMMEDIATE`): a transaction that read first
    /// and wrote later could otherwise fail mid-way when another connection wrote in between,
    /// which no busy timeout waits out.
    pub async fn begin(&self) -> StoreResult<Store> {
        let conn = match &self.conn {
            Conn::Owned(tx) | Conn::Joined(tx) => Conn::Joined(tx.clone()),
            Conn::Pool => {
                self.check_file()?;
                let tx = if self.postgres { self.pool.begin().await? } else { self.pool.begin_with("BEGIN IMMEDIATE").await? };
                Conn::Owned(Arc::new(Mutex::new(Some(tx))))
            }
        };
        Ok(Store { conn, ..self.clone() })
    }

    /// Commits a unit that this handle began; a joined unit is committed by its owner.
    pub async fn commit(&self) -> StoreResult<()> {
        if let Conn::Owned(tx) = &self.conn {
            let tx = tx.lock().await.take().ok_or_else(finished)?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Undoes what a unit this handle began wrote (dropping it does the same, later).
    pub async fn rollback(&self) -> StoreResult<()> {
        if let Conn::Owned(tx) = &self.conn
            && let Some(tx) = tx.lock().await.take()
        {
            tx.rollback().await?;
        }
        Ok(())
    }
}
