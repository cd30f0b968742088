"""What a sentence claims about a number: a result, a student's final answer, a confirmation.

The leak guard lets a number through that the student has already seen ("You said 7. How did
you get it?"), but not when the reply *presents* it as the result ("Steve needs 7 weeks",
"84 / 12 = 7 weeks", "the total should be 1200"), and not when the reply confirms that the
student's final answer is right ("Yes, exactly!"). These are the rules for telling them apart,
in the languages of the shipped units (English, Spanish, French); all positions refer to the
reading text of ``mathtext.read_numbers`` (notation undone, number words as digits).

A number is **presented as the result** when its sentence is not a question (a tag such as
", right?" keeps it a statement), it is not negated ("not 7"), compared ("more than 7"),
supposed ("if it were 7"), or reported as the student's ("you said 7"), and

- it is the result of a computation written before it: ``15 x 84 hours = 1260``,
  ``50 - 20 - 25 = 5 posters``, ``84 divided by 12 is 7`` (or after it: ``1260 = 15 x 84``);
- or a phrase of conclusion stands close before it in its sentence: "should be", "must have",
  "needs", "will take", "so", "that means", "in total", "debe ser", "necesita", "en total",
  "doit être", "il faut", "au total" ...;
- or it is bound to a noun of the question or a result word: "the total is 1200",
  "his pay was 1260", ``{"weeks": 7}``.

A student's **final answer** is the last number of their message that is neither negated nor
an operand of a computation ("I did 12 x 7 and got 84": 84), plus any number they bind as their
answer ("is it 7?", "I got 7"). A reply **confirms** it with an affirmation that opens the
reply ("Yes!", "Exactly.", "Great job!" as a whole sentence) or an evaluation anywhere ("that's
right", "you got it", "c'est juste", "es correcto") that is neither negated nor asked. Praise
of the work ("Great job setting up the equation!", "Good thinking") confirms nothing.
"""

from __future__ import annotations

import re
from typing import Iterable

_W = r"[^\W\d_]"  # a letter
_NUM = r"-?\d+(?:\.\d+)?(?:/\d+)?"
_CURRENCY = r"[$€£¥]"

# --- sentences -------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?;\n](?=\s|$)|[?!\n]")
_TAG_QUESTION = re.compile(
    r"^[\s,]*(?:right|correct|yes|no|ok|okay|isn'?t\s+it|don'?t\s+you\s+think|verdad|no\s+es\s+as[ií]|cierto|"
    r"n'est-ce\s+pas|non|pas\s+vrai|c'est\s+[çc]a|hein)\s*\?", re.IGNORECASE)


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around ``text[start:end]``: from after the previous sentence end to the next."""
    begin = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        if not _inside_number(text, m.start()):
            begin = m.end()
    stop = len(text)
    for m in _SENTENCE_END.finditer(text, end):
        if not _inside_number(text, m.start()):
            stop = m.end()
            break
    return begin, stop


def _inside_number(text: str, i: int) -> bool:
    return text[i] == "." and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def _is_question(text: str, end: int, stop: int, begin: int) -> bool:
    """The sentence asks (ends with ``?`` or opens with ``¿``), unless the question is only a
    tag after a statement ("So he needs 7 weeks, right?")."""
    sentence = text[begin:stop]
    if "¿" in text[begin:end]:
        return not _TAG_QUESTION.match(text[end:stop].split(",")[-1] if "," in text[end:stop] else "")
    if not sentence.rstrip().endswith("?"):
        return False
    tail = text[end:stop]
    last_clause = tail[tail.rfind(","):] if "," in tail else tail
    return not _TAG_QUESTION.match(last_clause)


# --- what must not count as a claim ----------------------------------------------------------

_NEGATED = re.compile(
    r"(?:\bnot|n't|\bno(?!\s*,)|\bnever|\bnunca|\bpas|\bjamais|\bni|\bnon|\bnicht|\bkein\w*|\binstead\s+of|"
    r"\brather\s+than|\ben\s+lugar\s+de|\bau\s+lieu\s+de|\bplut[ôo]t\s+que)"
    r"(?:\s+\S+){0,2}\s*" + _CURRENCY + r"?\s*$", re.IGNORECASE)
_COMPARED = re.compile(
    r"\b(?:more|less|fewer|greater|bigger|smaller|larger|higher|lower|m[áa]s|menos|mayor|menor|plus|moins|"
    r"sup[ée]rieur|inf[ée]rieur)\s+(?:than|que|de|à|a)\s*" + _CURRENCY + r"?\s*$|"
    r"\b(?:at\s+least|at\s+most|about|around|roughly|nearly|almost|close\s+to|over|under|up\s+to|between|"
    r"al\s+menos|como\s+m[áa]ximo|aproximadamente|casi|cerca\s+de|entre|au\s+moins|au\s+plus|environ|presque|"
    r"près\s+de)\s*" + _CURRENCY + r"?\s*$", re.IGNORECASE)
_SUPPOSED = re.compile(
    r"^\W*(?:(?:and|so|but|then|y|pero|et|mais|alors)\s+)?(?:if|suppose|supposing|imagine|what\s+if|let'?s\s+say|"
    r"say|assume|assuming|try|check|whether|si|s'il|s'ils|supongamos|imagina|imaginemos|prueba|comprueba|supposons|"
    r"imaginons|essaie|essaye|vérifie|v[ée]rifions)\b", re.IGNORECASE)
_REPORTED = re.compile(
    r"\b(?:you|u|tu|vous|usted)\s+(?:'ve\s+|have\s+|had\s+|just\s+|as\s+|avez\s+|has\s+|habías\s+)?"
    r"(?:said|say|wrote|write|typed|type|got|found|think|thought|guessed|guess|answered|mean|meant|mentioned|"
    r"suggested|proposed|chose|put|came\s+up\s+with|ended\s+up\s+with|believe|dit|[ée]crit|trouv[ée]|mis|"
    r"propos[ée]|pens[ée]s?|crois|mentionn[ée]|dijiste|escribiste|pusiste|encontraste|obtuviste|crees|piensas|"
    r"calculaste|mencionaste)\b"
    r"|\byour\s+(?:answer|guess|result|number|idea|reasoning|work)\b|\btu\s+respuesta\b|\bta\s+r[ée]ponse\b|"
    r"\bvotre\s+r[ée]ponse\b|\bsu\s+respuesta\b",
    re.IGNORECASE)

# --- what makes a number a result --------------------------------------------------------------

_OPERATOR = (r"(?:[-+*/x×·÷]|times|plus|minus|divided\s+by|multiplied\s+by|over|por|m[áa]s|menos|entre|"
             r"dividido\s+(?:por|entre)|multiplicado\s+por|fois|moins|divis[ée]\s+par|multipli[ée]\s+par)")
_UNIT = rf"(?:\s*/\s*{_W}+|\s+(?:per\s+|por\s+|par\s+)?{_W}+){{0,2}}"
_RESULT_VERB = (r"(?:=|is|are|was|equals?|gives?|makes?|comes\s+to|es|son|da|dan|est|sont|fait|font|"
                r"donne|[ée]gale?)")
_COMPUTED_BEFORE = re.compile(
    rf"{_CURRENCY}?\s*{_NUM}{_UNIT}(?:\s*{_OPERATOR}\s*{_CURRENCY}?\s*{_NUM}{_UNIT})+\s*{_RESULT_VERB}\s*"
    rf"{_CURRENCY}?\s*$", re.IGNORECASE)
# (matched at the number's end with ``match(text, pos)``, so no ``^``)
_COMPUTED_AFTER = re.compile(
    rf"{_UNIT}\s*(?:=|is|es|est)\s*{_CURRENCY}?\s*{_NUM}{_UNIT}(?:\s*{_OPERATOR}\s*{_CURRENCY}?\s*{_NUM})+",
    re.IGNORECASE)
_CONCLUSIONS = [
    # English (story verbs such as "gives", "makes", "gets" count only after "that", "which", "you")
    r"should(?:\s+have)?", r"must(?:\s+have)?", r"ha(?:s|ve)\s+to", r"needs?", r"needed", r"will", r"'ll",
    r"would", r"(?:it|that|this)\s+(?:takes|took)", r"so", r"therefore", r"thus", r"hence",
    r"(?:that|this|which)\s+means", r"meaning", r"(?:that|this|which|it)\s+(?:gives|makes)", r"leaves?", r"leaving",
    r"(?:is|are)\s+left", r"left\s+with", r"in\s+total", r"altogether", r"in\s+all", r"overall",
    r"ends?\s+up\s+with", r"comes?\s+(?:out\s+)?to", r"works?\s+out\s+to", r"adds?\s+up\s+to", r"amounts?\s+to",
    r"(?:you|we)(?:'ll|\s+will|\s+would)?\s+(?:get|obtain|end\s+up\s+with|have)", r"that'?s", r"that\s+is",
    r"equals?",
    # Spanish
    r"debe(?:r[ií]a)?(?:\s+(?:ser|haber|tener))?", r"tiene\s+que", r"tendr[ií]a\s+que", r"necesita(?:r[áa]n?|n)?",
    r"hace(?:n)?\s+falta", r"tardar[áa]", r"ser[áa]n?", r"ser[ií]an?", r"as[ií]\s+que", r"entonces",
    r"por\s+lo\s+tanto", r"por\s+eso", r"o\s+sea", r"(?:eso|esto|lo\s+que)\s+(?:significa|da|deja)",
    r"(?:me|te|nos)\s+(?:da|dan)", r"sale", r"salen", r"quedan?", r"en\s+total", r"al\s+final",
    r"obtienes", r"obtenemos", r"es\s+decir",
    # French
    r"doit(?:\s+(?:être|avoir))?", r"devrait(?:\s+(?:être|avoir))?", r"il\s+(?:lui\s+|leur\s+)?faut", r"faut",
    r"a\s+besoin\s+de", r"ont\s+besoin\s+de", r"aura", r"auront", r"sera", r"seront", r"serait", r"prendra",
    r"donc", r"alors", r"ainsi", r"cela\s+signifie", r"[çc]a\s+veut\s+dire", r"ce\s+qui\s+(?:fait|donne|laisse)",
    r"(?:[çc]a|cela)\s+(?:fait|donne)", r"il\s+(?:lui\s+|leur\s+)?reste(?:nt)?", r"restent", r"au\s+total",
    r"en\s+tout", r"on\s+obtient", r"tu\s+obtiens", r"c'est",
]
_CONCLUSION_AFTER = re.compile(
    rf"{_UNIT}\s*(?:in\s+total|altogether|in\s+all|overall|en\s+total|en\s+tout|au\s+total|de\s+total)\b",
    re.IGNORECASE)
_CONCLUSION = re.compile(r"(?<![^\W\d_'])(?:" + "|".join(_CONCLUSIONS) + r")(?![^\W\d_])"
                         rf"(?P<gap>(?:\W+{_W}+){{0,5}})\W*{_CURRENCY}?\s*$", re.IGNORECASE)
RESULT_NOUNS = frozenset("""
total sum difference product quotient result answer amount cost price pay change remainder area perimeter
volume average mean
resultado respuesta suma diferencia producto cociente cantidad costo coste precio pago área perímetro promedio
résultat réponse somme différence produit quotient montant coût prix reste aire périmètre moyenne
""".split())
_BOUND_TO_NOUN = re.compile(
    rf"(?P<noun>{_W}+)(?:\W+{_W}+){{0,3}}\W*(?:\s(?:is|are|was|were|would\s+be|will\s+be|es|son|era|ser[áa]|est|"
    rf"sont|vaut|valent|était|sera)\s|\s*[:=]\s*)[\"']?\s*{_CURRENCY}?\s*$", re.IGNORECASE)
_STOP_WORDS = frozenset("""
how many much what which does will would have need take the and for that this with from they them their there
cuántos cuántas cuánto cuánta qué cuál tiene para con que los las una unos unas combien quel quelle quels
quelles avec pour dans les des une est sont
""".split())

_BEFORE_LIMIT = 120  # characters of a sentence read before a number


def question_words(texts: Iterable[str]) -> frozenset[str]:
    """The content words of the questions in ``texts`` (a step's prompt, the statement's
    question; the last sentence where none asks): a number bound to one of them answers the
    question ("the weeks are 7")."""
    words: set[str] = set()
    for text in texts:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n", text or "") if s.strip()]
        asked = [s for s in sentences if "?" in s] or sentences[-1:]
        for sentence in asked:
            words.update(w.casefold() for w in re.findall(rf"{_W}{{4,}}", sentence)
                         if w.casefold() not in _STOP_WORDS)
    return frozenset(words)


def result_claim(text: str, start: int, end: int, targets: frozenset[str] = frozenset()) -> str | None:
    """The words that present the number at ``text[start:end]`` as a result, or None."""
    begin, stop = sentence_bounds(text, start, end)
    if _is_question(text, end, stop, begin):
        return None
    before = text[max(begin, start - _BEFORE_LIMIT):start]
    clause = re.split(r"[,;:()]|\s(?:but|pero|mais)\s", before)[-1]
    if _NEGATED.search(before) or _COMPARED.search(before) or _SUPPOSED.search(clause):
        return None
    if _REPORTED.search(clause):
        return None
    computed = _COMPUTED_BEFORE.search(before)
    if computed:
        return (computed.group(0) + text[start:end]).strip()
    computed = _COMPUTED_AFTER.match(text, end, stop)
    if computed:
        return (text[start:end] + computed.group(0)).strip()
    conclusion = _CONCLUSION.search(before)
    if conclusion and not _SUPPOSED.search(before[:conclusion.start()].split(",")[-1]):
        return (conclusion.group(0) + text[start:end]).strip()
    conclusion = _CONCLUSION_AFTER.match(text, end, stop)
    if conclusion:
        return (text[start:end] + conclusion.group(0)).strip()
    bound = _BOUND_TO_NOUN.search(before)
    if bound and _names_the_result(bound.group(0), targets):
        return (bound.group(0) + text[start:end]).strip()
    return None


def _names_the_result(phrase: str, targets: frozenset[str]) -> bool:
    words = {w.casefold() for w in re.findall(rf"{_W}+", phrase)}
    return bool(words & RESULT_NOUNS or words & targets)


# --- the student's final answer ---------------------------------------------------------------

_OPERAND_AFTER = re.compile(rf"^{_UNIT}\s*{_OPERATOR}\s*{_CURRENCY}?\s*\d", re.IGNORECASE)
_OPERAND_BEFORE = re.compile(rf"{_OPERATOR}\s*{_CURRENCY}?\s*$|\b(?:by|de|par)\s*$", re.IGNORECASE)
_STUDENT_BINDS = re.compile(
    r"(?:=|\bis\s+it|\bit'?s|\bit\s+is|\bi\s+(?:got|get|think|found|have)|\banswer\s+is|\bequals?|\bes|\bson|"
    r"\bda|\best|\bc'est|\bj'ai|\bme\s+da|\bobtengo|\bobtuve|\btengo|\bsale)\s*" + _CURRENCY + r"?\s*$",
    re.IGNORECASE)
_CHECK_QUESTION = re.compile(
    r"\b(?:am\s+i\s+right|is\s+(?:that|it|this)\s+(?:right|correct)|right\s*\?|correct\s*\?|did\s+i\s+get\s+it|"
    r"est[áa]\s+bien|es\s+correcto|tengo\s+raz[óo]n|lo\s+tengo|c'est\s+(?:juste|bon|[çc]a|correct)|"
    r"j'ai\s+raison|ai-je\s+raison)", re.IGNORECASE)


def final_answer_positions(text: str, spans: list[tuple[int, int]]) -> list[int]:
    """Which of the number ``spans`` in a student's message are proposed as their answer:
    the last one that is neither negated nor an operand, and every one they bind as answer."""
    chosen: list[int] = []
    last = None
    for index, (start, end) in enumerate(spans):
        before = text[max(0, start - 60):start]
        if _NEGATED.search(before):
            continue
        if _STUDENT_BINDS.search(before) and not _OPERAND_AFTER.match(text[end:]):
            chosen.append(index)
        if _OPERAND_AFTER.match(text[end:]) or (_OPERAND_BEFORE.search(before) and not _STUDENT_BINDS.search(before)):
            continue
        last = index
    if last is not None and last not in chosen:
        chosen.append(last)
    return chosen


def asks_for_a_check(text: str) -> bool:
    """ "Am I right?", "¿Está bien?", "C'est juste ?": a question about an earlier answer."""
    return bool(_CHECK_QUESTION.search(text))


# --- confirmation ---------------------------------------------------------------------------------

_AFFIRM = (r"yes|yeah|yep|yup|correct|exactly|precisely|right|perfect|bingo|indeed|absolutely|sí|si(?=\s*[,!.])|exacto|"
           r"exactamente|correcto|perfecto|claro|oui|exact|exactement|parfait|bravo|genau|richtig|ja|esatto|giusto")
_PRAISE = (r"(?:great|good|nice|excellent|awesome|fantastic|wonderful|super|amazing|brilliant|outstanding)"
           r"(?:\s+(?:job|work))?|well\s+done|bien\s+hecho|muy\s+bien|excelente|genial|estupendo|buen\s+trabajo|"
           r"tr[èe]s\s+bien|bien\s+jou[ée]|excellent|super|bravo|f[ée]licitations|bon\s+travail")
# An affirmation or a praise that stands alone: "Yes!", "Exactly, ...", "Great job." (not
# "Right triangles ...", "Great job setting up ..."). Punctuation must follow, so that a reply
# still streaming ("Great ") is not judged before its next word.
_OPENER = re.compile(rf"^\W*(?:(?:{_AFFIRM})(?:[\s,]+(?:{_AFFIRM}))*\s*(?=[,!.;:]|\s[-—])|(?:{_PRAISE})\s*[!.])",
                     re.IGNORECASE)
_EVALUATION = re.compile(
    r"\b(?:that|this|it|you|your\s+answer|your\s+result|the\s+answer|\d+(?:\s+[^\W\d_]+)?)\s*(?:'s|'re|is|are|was)\s+"
    r"(?:absolutely\s+|exactly\s+|totally\s+|completely\s+|100%\s+|all\s+)?(?:right|correct)\b"
    r"(?!\s+(?:that|to|about|track|direction|idea|way|approach|step|method|operation|place|side|number|"
    r"thing|to\s+\w+))"
    r"|\b(?:you(?:'ve|\s+have)?\s+got\s+it(?!\s+(?:wrong|backwards|reversed|mixed|almost|partly|half))|you\s+nailed\s+it|nailed\s+it|spot\s+on|that'?s\s+it|that\s+is\s+it|"
    r"that(?:'?s|\s+is)\s+the\s+(?:right|correct)\s+[^\W\d_]+|that(?:'?s|\s+is)\s+the\s+answer|you(?:'ve|\s+have)?\s+(?:solved|found)\s+it|"
    r"you'?re\s+correct|you\s+are\s+correct|"
    r"es\s+correct[oa]|est[áa]\s+bien|eso\s+es|as[ií]\s+es|lo\s+tienes|lo\s+has\s+conseguido|tienes\s+raz[óo]n|"
    r"has\s+acertado|acertaste|es\s+la\s+respuesta\s+correcta|"
    r"c'est\s+(?:[çc]a|juste|correct|exact|bon|la\s+bonne\s+r[ée]ponse)|tu\s+as\s+raison|vous\s+avez\s+raison|"
    r"tu\s+l'as|bonne\s+r[ée]ponse|ta\s+r[ée]ponse\s+est\s+(?:juste|correcte|bonne))\b",
    re.IGNORECASE)
_HYPOTHETICAL = re.compile(r"\b(?:if|whether|when|once|si|cuando|quand|lorsque|check|comprueba|v[ée]rifie)\b",
                           re.IGNORECASE)
_NOT_BEFORE = re.compile(r"(?:\bnot|n't|\bno|\balmost|\bnearly|\bpartly|\bpas|\bne|\bni|\btodav[ií]a\s+no|"
                         r"\bquite)\W*(?:\w+\W+)?$", re.IGNORECASE)


# Words after which a reply still streaming may turn out to confirm ("You're right" + "!" or
# + "that ..."): the stream guard does not release text that ends with one of them.
PENDING_WORDS = frozenset("""
yes yeah yep yup correct correcta correcto exactly exact exacto exactement precisely right perfect perfecto parfait
bingo indeed absolutely oui claro bravo genau richtig esatto giusto great good nice excellent awesome fantastic
wonderful super amazing brilliant outstanding job work done bien hecho trabajo excelente genial estupendo
jou joué travail juste raison razón got nailed spot solved found it
""".split())


def confirmation(reply: str) -> str | None:
    """The words with which ``reply`` says the student's answer is right, or None."""
    first_end = sentence_bounds(reply, 0, 0)[1] if reply.strip() else 0
    opener = _OPENER.match(reply)
    if opener and not reply[:first_end].rstrip().endswith("?"):
        return opener.group(0).strip(" .!?\n")
    for m in _EVALUATION.finditer(reply):
        begin, stop = sentence_bounds(reply, m.start(), m.end())
        if reply[begin:stop].rstrip().endswith("?") or "¿" in reply[begin:m.start()]:
            continue
        before = reply[begin:m.start()]
        if _NOT_BEFORE.search(before) or _HYPOTHETICAL.search(re.split(r"[,;:]", before)[-1]):
            continue
        if re.search(r"\bnot\b|n't|\bno\b|\bpas\b", m.group(0), re.IGNORECASE):
            continue
        return m.group(0).strip()
    return None
