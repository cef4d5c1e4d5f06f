//! Semantic matching: a local sentence-embedding model, cached FAQ vectors, and the async glue
//! that keeps the model off the async workers; the model comes from a local directory or, opted
//! into, from the Hugging Face hub through a local cache (`hub`), or installed by hand (`install`).

pub mod bert;
pub mod embedder;
pub mod faq;
pub mod hub;
pub mod install;
pub mod int8;
pub mod threads;

pub use embedder::Embedder;
