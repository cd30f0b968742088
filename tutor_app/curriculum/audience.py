"""Words a unit for school students should not teach: alcohol, and sexual or drug vocabulary.

A conversation unit is ``audience: school`` unless it says ``audience: adults``. The Spanish unit
once listed "una caña" (a small beer) and "tinto de verano" (wine with lemonade) as vocabulary
for a class of minors. This list is deliberately short and literal: it catches the words a
scene at a bar or a party brings in, in the languages the shipped units practise, and the
teacher is told which word and where, to replace it or to mark the unit for adults. It is no
content filter for free text; it checks what the teacher wrote into the unit.
"""

from __future__ import annotations

import re

from ..checking.phrases import folded

NOT_FOR_SCHOOL = frozenset({
    # alcohol
    "beer", "beers", "wine", "wines", "alcohol", "alcoholic", "cocktail", "cocktails", "vodka", "whisky", "whiskey",
    "rum", "gin", "champagne", "cider", "sangria", "tequila", "liqueur", "drunk",
    "cerveza", "cervezas", "cana", "canas", "vino", "vinos", "tinto", "copa de vino", "cava", "sidra", "chupito",
    "biere", "bieres", "vin", "vins", "pastis", "apero", "ivre",
    "bier", "wein", "schnaps", "betrunken",
    "birra", "vino rosso", "ubriaco",
    # sexual and drug vocabulary
    "condom", "condoms", "preservativo", "preservativos", "preservatif", "preservatifs", "kondom",
    "sexual", "sexy", "sexuel", "sexuelle", "sexuell", "cannabis", "marijuana", "cocaine", "cocaina",
})


def unsuitable_words(text: str) -> list[str]:
    """The listed words (or two-word phrases) in ``text``, case and accents aside, in order."""
    written = re.findall(r"[^\W\d_]+", text)
    keys = [folded(w) for w in written]
    found = [w for w, k in zip(written, keys) if k in NOT_FOR_SCHOOL]
    found += [f"{written[i]} {written[i + 1]}" for i in range(len(keys) - 1)
              if f"{keys[i]} {keys[i + 1]}" in NOT_FOR_SCHOOL]
    return list(dict.fromkeys(found))
