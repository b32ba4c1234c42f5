"""How the retrieval defaults were chosen: recall@k, the relevance gate and note length,
all on *generated* items (never on a shipped benchmark).

    python benchmarks/calibrate_retrieval.py                       # hyperhidrosis, 1200 items
    python benchmarks/calibrate_retrieval.py --disease DIR --n 600 --tokenizer smollm2-135m
    python benchmarks/calibrate_retrieval.py --smoke                 # seconds, for CI

For each k and note length it prints: recall@k on the generated val split (share of items with
a note citing one of the item's own fact ids), the share of generated items the relevance gate
lets through, and the mean notes-block length in characters and (with ``--tokenizer``) in
tokens of that model. docs/retrieval.md has the table this printed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from raresupport.chat import notes_block
from raresupport.data import load_vignettes
from raresupport.diseases import load_disease
from raresupport.generate import get_generator
from raresupport.generate.dataset import generate_dataset
from raresupport.retrieve import RetrievalConfig, load_retriever
from raresupport.retrieve.notes import note_hits, recall_at_k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--disease", default="hyperhidrosis")
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokenizer", default=None, help="model whose tokenizer counts note tokens")
    ap.add_argument("--smoke", action="store_true", help="60 items, no tokenizer (CI check)")
    args = ap.parse_args()
    if args.smoke:
        args.n, args.tokenizer = 60, None
    disease = load_disease(args.disease)
    with tempfile.TemporaryDirectory() as tmp:
        generate_dataset(disease, get_generator("grounded"), args.n, tmp, seed=args.seed)
        val = load_vignettes(Path(tmp) / "val.jsonl")
        train = load_vignettes(Path(tmp) / "train.jsonl")
    tok = None
    if args.tokenizer:
        from raresupport.models.load import load_tokenizer, resolve_model

        tok = load_tokenizer(resolve_model(args.tokenizer), args.tokenizer)
    load_retriever(disease.spec, cutoff=0)  # imports (bm25s, numpy, PyStemmer) out of the timing
    t0 = time.perf_counter()
    gated = load_retriever(disease.spec, cutoff=1)
    build_s = time.perf_counter() - t0
    head = {"n_val": len(val), "n_train": len(train), "passages": len(gated.passages),
            "index_build_s": round(build_s, 3), "anchors": gated.anchors}
    if tok is not None:  # a training example's length without notes, for the ratio
        from raresupport.chat import answer_text, mcq_messages, render_conversation

        lens = [len(tok(render_conversation(tok, mcq_messages(v.to_mcq(), "cloze",
                    disease.spec.system_prompt), answer_text(v.to_mcq(), "cloze")))["input_ids"])
                for v in train]  # fmt: skip
        head["example_tokens_without_notes"] = round(sum(lens) / len(lens), 1)
    print(json.dumps(head))
    for k, option_notes in ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (5, 1)):
        ungated = load_retriever(disease.spec, cutoff=0)
        cfg = RetrievalConfig(k=k, option_notes=option_notes)
        row = {"k": k, "option_notes": option_notes, "val": recall_at_k(val, gated, cfg),
               "ungated_recall": recall_at_k(val, ungated, cfg)["recall"]}
        for max_chars in (120, 160, 240, 10_000):
            blocks = [notes_block(note_hits(gated, v, cfg), max_chars) for v in train]
            blocks = [b for b in blocks if b]
            key = f"notes_chars@{max_chars}"
            row[key] = round(sum(map(len, blocks)) / max(1, len(blocks)), 1)
            if tok is not None:
                n_tok = [len(tok(b)["input_ids"]) for b in blocks]
                row[f"notes_tokens@{max_chars}"] = round(sum(n_tok) / max(1, len(n_tok)), 1)
        print(json.dumps(row))


if __name__ == "__main__":
    main()
