"""How close a tutor reply comes to the reply a teacher approved: chrF (Popović, 2015).

chrF is the character n-gram F-score machine translation uses to compare an output with a
reference: it rewards the same words and phrasings without asking for the same sentence, works
for any language without a tokenizer, and is not fooled by one shared word the way a word
overlap is. Here, as in the paper: character n-grams of orders 1 to 6 with spaces removed,
precision and recall each averaged over the orders (an order that one side is too short to
have is left out), then F with beta = 2 (recall counts twice as much: saying what the teacher
said matters more than saying only that). 0 is nothing in common, 1 the same text.
"""

from __future__ import annotations

from collections import Counter

MAX_ORDER = 6
BETA = 2.0


def char_ngrams(text: str, n: int) -> Counter:
    chars = "".join(text.split())
    return Counter(chars[i:i + n] for i in range(len(chars) - n + 1))


def chrf(hypothesis: str, reference: str, *, max_order: int = MAX_ORDER, beta: float = BETA) -> float:
    precisions, recalls = [], []
    for n in range(1, max_order + 1):
        hyp, ref = char_ngrams(hypothesis, n), char_ngrams(reference, n)
        if not hyp or not ref:
            continue
        matched = sum((hyp & ref).values())
        precisions.append(matched / sum(hyp.values()))
        recalls.append(matched / sum(ref.values()))
    if not precisions:
        return 1.0 if "".join(hypothesis.split()) == "".join(reference.split()) else 0.0
    precision, recall = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    if precision == 0 or recall == 0:
        return 0.0
    return (1 + beta ** 2) * precision * recall / (beta ** 2 * precision + recall)
