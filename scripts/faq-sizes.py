#!/usr/bin/env python3
"""Does the default threshold mean the same on a small FAQ as on a large one? Runs
`supportbot eval faq` (protocol 1) on FAQs of several sizes cut from one intent dataset, and
prints, per size, the answered precision, coverage and share of no-entry questions answered,
pooled over the disjoint groups of labels of that size (BENCHMARKS.md, "FAQ size").

Usage: scripts/faq-sizes.py BINARY TRAIN TEST [SUPPORTBOT_EVAL_ARGS...]
e.g.   scripts/faq-sizes.py target/release/supportbot ../shared/eval/banking77/{train,test}.tsv \
           --model ~/.cache/supportbot/all-MiniLM-L6-v2

Labels are sorted by name and cut into consecutive groups of 10, 20 and 40 labels (the last,
shorter group is dropped), plus all of them. Within each group the protocol itself holds out
every fifth label, so a group of 10 labels is an FAQ of 8 entries with 2 intents unanswered.
Counts are rebuilt from each run's rates and query counts, then pooled over the groups.
"""
import json, subprocess, sys, tempfile
from pathlib import Path

SIZES = [10, 20, 40]


def read(path):
    """The rows of a `text<TAB>label` file, without its header (the same reading as `eval`)."""
    lines = [l.split("\t") for l in Path(path).read_text(encoding="utf-8-sig").splitlines() if l.strip()]
    return [(cols[0], cols[1] if len(cols) > 1 else "") for cols in (lines[1:] if lines[0][0] == "text" else lines)]


def write(path, rows):
    Path(path).write_text("text\tlabel\n" + "".join(f"{text}\t{label}\n" for text, label in rows), encoding="utf-8")


def run(binary, train, test, extra):
    out = subprocess.run([binary, "eval", "faq", "--train", train, "--test", test, *extra],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def counts(metrics, test_rows, labels):
    """(answered right, answered, in scope, no-entry answered, no-entry) of one run."""
    ordered = sorted(labels)
    unknown = {l for i, l in enumerate(ordered) if i % 5 == 4}
    in_scope = sum(1 for _, l in test_rows if l not in unknown)
    oos = len(test_rows) - in_scope
    right = round(metrics["in_scope_coverage"] * in_scope)
    oos_answered = round(metrics["oos_false_answer_rate"] * oos)
    precision = metrics["answered_precision"]
    answered = round(right / precision) if precision > 0 else oos_answered
    return right, answered, in_scope, oos_answered, oos


def main():
    binary, train_path, test_path, *extra = sys.argv[1:]
    train, test = read(train_path), read(test_path)
    labels = sorted({l for _, l in train})
    groups = {size: [labels[i:i + size] for i in range(0, len(labels) - size + 1, size)] for size in SIZES}
    groups[len(labels)] = [labels]
    print("labels | FAQ entries | groups | precision | coverage | no-entry answered")
    with tempfile.TemporaryDirectory() as tmp:
        for size, cuts in groups.items():
            total = [0] * 5
            for n, cut in enumerate(cuts):
                keep = set(cut)
                tr, te = Path(tmp, f"train-{size}-{n}.tsv"), Path(tmp, f"test-{size}-{n}.tsv")
                test_rows = [r for r in test if r[1] in keep]
                write(tr, [r for r in train if r[1] in keep])
                write(te, test_rows)
                c = counts(run(binary, str(tr), str(te), extra), test_rows, keep)
                total = [a + b for a, b in zip(total, c)]
            right, answered, in_scope, oos_answered, oos = total
            entries = size - size // 5
            print(f"{size} | {entries} | {len(cuts)} | {right / max(answered, 1):.3f} | "
                  f"{right / in_scope:.3f} | {oos_answered / max(oos, 1):.3f}")


if __name__ == "__main__":
    main()
