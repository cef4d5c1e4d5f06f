//! Semantic matching: a local sentence-embedding model, cached FAQ vectors, and the async glue
//! that keeps the model off the async workers.

pub mod embedder;
pub mod faq;

pub use embedder::Embedder;
