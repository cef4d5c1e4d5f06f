#!/usr/bin/env python3
"""Turns two public intent datasets into the `text<TAB>label` files `supportbot eval` reads, to
measure the bot on data it was never tuned on (BENCHMARKS.md, "Other public data").

Usage: scripts/make-intent-sets.py clinc OOS_EVAL_CHECKOUT OUT_DIR
       scripts/make-intent-sets.py hwu NLU_EVALUATION_DATA_CHECKOUT OUT_DIR

- clinc: a checkout of github.com/clinc/oos-eval; reads data/data_full.json and writes
  train.tsv (15,000 rows), test.tsv (4,500) and oos.tsv (its 1,000 out-of-scope test queries,
  for `--oos`).
- hwu: a checkout of github.com/xliuhw/NLU-Evaluation-Data; reads cross-validation fold 1 and
  writes train.tsv (9,960 rows) and test.tsv (1,076), labelled scenario_intent (64 intents).

The data keeps its own licence and stays outside the repository: only OUT_DIR holds it.
"""
import csv, json, sys
from pathlib import Path

FOLD = "CrossValidation/autoGeneFromRealAnno/autoGene_2018_03_22-13_01_25_169/CrossValidation/KFold_1"


def write(path, rows):
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for text, label in rows:
            text = text.replace("\t", " ").replace("\n", " ").strip()
            if text:
                f.write(f"{text}\t{label}\n")
    print(f"{path}: {len(rows)} rows, {len({label for _, label in rows})} labels")


def clinc(checkout, out):
    data = json.loads((checkout / "data" / "data_full.json").read_text())
    write(out / "train.tsv", data["train"])
    write(out / "test.tsv", data["test"])
    write(out / "oos.tsv", data["oos_test"])


def hwu_rows(folder):
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="") as f:
            for row in csv.DictReader(f, delimiter=";"):
                text = row["answer_from_user"] or row["answer_from_anno"]
                rows.append((text, f"{row['scenario']}_{row['intent']}"))
    return rows


def hwu(checkout, out):
    fold = checkout / FOLD
    write(out / "train.tsv", hwu_rows(fold / "trainset"))
    write(out / "test.tsv", hwu_rows(fold / "testset" / "csv"))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("clinc", "hwu"):
        sys.exit(__doc__)
    which, checkout, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    {"clinc": clinc, "hwu": hwu}[which](checkout, out)
