-- Sentence embeddings of FAQ phrasings, computed once per model and text.
CREATE TABLE embeddings (
    model     TEXT NOT NULL,
    text_hash TEXT NOT NULL,  -- SHA-256 of the text, hex
    vector    BLOB NOT NULL,  -- little-endian f32s
    PRIMARY KEY (model, text_hash)
);
