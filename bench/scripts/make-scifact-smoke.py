#!/usr/bin/env python3
"""Builds the SciFact fixture of the retrieval smoke test (tests/Quiver.IntegrationTests/Fixtures/scifact-smoke).

Deterministic: every 10th test query that has qrels (30 queries), every doc they cite, and the
first distractor docs of the corpus until there are 300 docs in all.

    python3 bench/scripts/make-scifact-smoke.py [/work/shared/datasets/scifact] [OUT_DIR]
"""
import json
import sys
from pathlib import Path

src = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/datasets/scifact")
out = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / "tests/Quiver.IntegrationTests/Fixtures/scifact-smoke")
DOCS, EVERY = 300, 10

qrels = {}
for line in (src / "qrels-test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
    qid, did, score = line.split("\t")
    qrels.setdefault(qid, []).append(did)

queries = [json.loads(l) for l in (src / "queries-test.jsonl").read_text(encoding="utf-8").splitlines()]
queries = [q for q in queries if q["_id"] in qrels][::EVERY]
relevant = {d for q in queries for d in qrels[q["_id"]]}

corpus = [json.loads(l) for l in (src / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
docs = [d for d in corpus if d["_id"] in relevant]
docs += [d for d in corpus if d["_id"] not in relevant][: DOCS - len(docs)]

out.mkdir(parents=True, exist_ok=True)
(out / "corpus.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
(out / "queries.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), encoding="utf-8")
(out / "qrels.tsv").write_text(
    "query-id\tcorpus-id\tscore\n" + "".join(f"{q['_id']}\t{d}\t1\n" for q in queries for d in qrels[q["_id"]]), encoding="utf-8")
print(f"{len(queries)} queries, {sum(len(qrels[q['_id']]) for q in queries)} qrels, {len(docs)} docs -> {out}")
