#!/usr/bin/env python3
"""Offline fusion of `retrieval --dump` files: reciprocal rank fusion (k = 60, equal weights) of any
rankings from any dumps, at document level, scored with nDCG@10 on the SciFact test qrels.

    bench/scripts/fuse-dumps.py DUMP:RANKING [DUMP:RANKING ...]
    e.g. bench/scripts/fuse-dumps.py /tmp/qb/arctic200-dump.json:dense /tmp/qb/minilm-dump.json:dense /tmp/qb/arctic200-dump.json:bm25

With one argument it scores that ranking alone (which reproduces the benchmark's own figure).
"""
import csv
import json
import math
import sys

QRELS = "/work/shared/datasets/scifact/qrels-test.tsv"


def load_qrels(path):
    qrels = {}
    with open(path) as f:
        rows = csv.reader(f, delimiter="\t")
        next(rows)
        for query, doc, score in rows:
            if int(score) > 0:
                qrels.setdefault(query, {})[doc] = int(score)
    return qrels


def ndcg10(ranked, relevant):
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def rrf(runs, k=60):
    fused = {}
    for query in runs[0]:
        scores = {}
        for run in runs:
            for rank, doc in enumerate(run.get(query, [])):
                scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank + 1)
        fused[query] = sorted(scores, key=lambda d: -scores[d])
    return fused


def main(args):
    if not args:
        print(__doc__)
        return 2
    qrels = load_qrels(QRELS)
    runs = []
    for arg in args:
        path, ranking = arg.rsplit(":", 1)
        runs.append(json.load(open(path))[ranking])
    fused = runs[0] if len(runs) == 1 else rrf(runs)
    score = sum(ndcg10(fused[q], qrels[q]) for q in fused) / len(fused)
    print(f"nDCG@10 {score:.4f} over {len(fused)} queries: {' + '.join(args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
