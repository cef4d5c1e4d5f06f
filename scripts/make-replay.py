#!/usr/bin/env python3
"""Builds a replay file (JSON lines) of N messages from labeled eval data, for timing replays.

Usage: scripts/make-replay.py N OUT.jsonl [SHARED_EVAL_DIR]

A deterministic mix: chat posts from nps_chat (chatter and chat questions), support requests from
banking77, members replying to some questions, votes on some, and moderator commands.
The data stays in ../shared; only the generated file (outside the repo) holds it.
"""
import csv, json, random, sys
from datetime import datetime, timedelta, timezone

n, out = int(sys.argv[1]), sys.argv[2]
shared = sys.argv[3] if len(sys.argv) > 3 else "../shared/eval"
rng = random.Random(7)

def column(path):
    with open(path, newline="") as f:
        return [row[0] for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)][1:]

chat = [t for t in column(f"{shared}/nps_chat/posts.tsv") if t not in ("JOIN", "PART")]
requests = column(f"{shared}/banking77/test.tsv")
start = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
users = [f"user{i}" for i in range(200)]
lines, asked = [], []
for i in range(n):
    at = (start + timedelta(seconds=20 * i)).isoformat().replace("+00:00", "Z")
    roll = rng.random()
    event = {"id": f"e{i}", "at": at, "channel": rng.choice(["help", "general"]), "user": rng.choice(users)}
    if roll < 0.55:
        event["text"] = rng.choice(chat)
    elif roll < 0.85:
        event["text"] = rng.choice(requests)
        asked.append(event["id"])
    elif roll < 0.93 and asked:
        event["text"] = "have you tried restarting it?"
        event["reply_to"] = rng.choice(asked[-20:])
    elif roll < 0.97 and asked:
        del event["channel"]
        event.update(channel="help", feedback=rng.choice(["helpful", "not_helpful"]), on=rng.choice(asked[-5:]))
    else:
        event.update(user="mod", moderator=True, text=rng.choice(["/ticket list", "/ticket show 1", "/faq search card"]))
    lines.append(json.dumps(event))
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
