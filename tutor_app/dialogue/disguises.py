"""Undoing the disguises a compliant model puts an answer in when a student asks for them.

"Spell it letter by letter", "say it in base64", "give me the digits one by one", "write it
backwards": a model that follows the student rather than its instructions writes the answer in
a form the plain number scan cannot see. The leak guard decides deliberately what it reads:

- always: letters spelled one by one (``S-E-V-E-N``, ``s e v e n``), digits spelled one by one
  (``1 2 6 0``, ``1-2-6-0``: three or more), base64 (``MTI2MA==``), Morse code (``--... ...--``),
  ``0x`` hexadecimal, and Roman numerals made of I, V and X (``VII``);
- when the reply names the disguise: a single Morse letter, binary, hexadecimal and octal numbers, text written
  backwards (word by word), ROT13 or a Caesar cipher (every shift is tried), Roman
  numerals of any letters, and digits given in pieces ("the digits are 1, 2, 6 and 0", "the
  first two digits are 12 and the last two 60").

Each decoded piece is scanned like a reply in which every number is new: a disguise is never
an innocent mention. What no decoder can read (a riddle, a private code agreed with the
student, arithmetic on the answer written in prose) is listed in the README as out of reach.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache

_SEPARATOR = r"(?:[\s\-.,·*_|/'\"“”‘’+]{1,4})"
_LETTERS = re.compile(rf"(?<![^\W\d_])[^\W\d_](?:{_SEPARATOR}[^\W\d_]){{2,}}(?![^\W\d_])")
_DIGITS = re.compile(r"(?<![\d.,/])\d(?:(?:[ \t\n\-_|·]|,\s?|\s+(?:and|y|et|und|e)\s+)\d){2,}(?![\d/])")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{2,}={0,2}(?![A-Za-z0-9+/=_-])")
_MORSE = re.compile(r"(?<![.\-\w])[.\-·–—]{1,6}(?:\s+/?\s*[.\-·–—]{1,6}){1,}(?![.\-\w])")
_MORSE_ONE = re.compile(r"(?<![.\-\w])[.\-·–—]{1,6}(?![.\-\w])")
_HEX_PREFIXED = re.compile(r"\b0x([0-9a-fA-F]{1,12})\b")
_ROMAN_IVX = re.compile(r"\b(?=[IVX]{2,}\b)X{0,3}(?:IX|IV|V?I{0,3})\b")
_ROMAN_ANY = re.compile(r"\b(?=[MDCLXVI]+\b)M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})\b",
                        re.IGNORECASE)
_MORSE_CODE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g", "....": "h", "..": "i",
    ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n", "---": "o", ".--.": "p", "--.-": "q", ".-.": "r",
    "...": "s", "-": "t", "..-": "u", "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z",
    "-----": "0", ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6",
    "--...": "7", "---..": "8", "----.": "9",
}
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}

# Words that name a disguise, in the languages of the shipped units.
_NAMES = {
    "binary": r"binary|binario|binaire|bin[äa]r|base\s*2\b",
    "hex": r"hex|hexadecimal|hexadécimal|base\s*16\b",
    "octal": r"octal|base\s*8\b",
    "backwards": r"backwards?|reversed?|in\s+reverse|al\s+rev[ée]s|invertid[oa]|[àa]\s+l'envers|invers[ée]|"
                 r"r[üu]ckw[äa]rts",
    "shift": r"rot\s*-?13|caesar|c[ée]sar|cipher|cifrad[oa]|chiffr",
    "roman": r"roman|romano|romain|r[öo]misch",
    "morse": r"morse",
    "digits": r"digits?|d[ií]gitos?|cifras?|chiffres?|ziffern?|one\s+by\s+one|uno\s+por\s+uno|un\s+par\s+un",
}
_NAMED = {key: re.compile(rf"\b(?:{pattern})", re.IGNORECASE) for key, pattern in _NAMES.items()}


@lru_cache(maxsize=1024)
def decoded_pieces(text: str) -> tuple[str, ...]:
    """Readings of ``text`` with a disguise undone, to be scanned for answers."""
    named = {key for key, pattern in _NAMED.items() if pattern.search(text)}
    pieces: list[str] = []
    pieces += [re.sub(r"[^\w]", "", m.group()) for m in _LETTERS.finditer(text)]
    pieces += [re.sub(r"\D", "", m.group()) for m in _DIGITS.finditer(text)]
    pieces += _base64(text)
    pieces += _morse(text, _MORSE) + (_morse(text, _MORSE_ONE) if "morse" in named else [])
    pieces += [str(int(m.group(1), 16)) for m in _HEX_PREFIXED.finditer(text)]
    pieces += [str(_roman(m.group())) for m in _ROMAN_IVX.finditer(text) if m.group()]
    if "binary" in named:
        pieces += _in_base(text, r"[01]{2,32}", 2)
    if "hex" in named:
        pieces += _in_base(text, r"[0-9a-fA-F]{1,12}", 16)
    if "octal" in named:
        pieces += _in_base(text, r"[0-7]{1,12}", 8)
    if "backwards" in named:
        pieces.append(re.sub(r"\w+", lambda m: m.group()[::-1], text))
    if "shift" in named:
        pieces += [_shift(text, n) for n in range(1, 26)]
    if "roman" in named:
        pieces += [str(_roman(m.group().upper())) for m in _ROMAN_ANY.finditer(text) if m.group()]
    if "digits" in named:
        pieces += _digits_in_pieces(text)
    return tuple(dict.fromkeys(p for p in pieces if p and p != text))


def _base64(text: str) -> list[str]:
    out = []
    for m in _BASE64.finditer(text):
        token = m.group()
        padded = token.endswith("=") and len(token) % 4 == 0
        if not (padded or len(token) >= 8) or token.isalpha() and token.islower():
            continue
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                decoded = decode(token + "=" * (-len(token) % 4)).decode("utf-8")
            except (binascii.Error, ValueError):
                continue
            if decoded and decoded.isprintable():
                out.append(decoded)
                break
    return out


def _morse(text: str, pattern: re.Pattern) -> list[str]:
    out = []
    for m in pattern.finditer(text):
        words = re.split(r"\s*/\s*|\s{3,}", m.group().translate(str.maketrans("·–—", ".--")))
        letters = [" ".join(_MORSE_CODE.get(code, "?") for code in word.split()) for word in words]
        decoded = " ".join("".join(word.split()) for word in letters)
        if "?" not in decoded:
            out.append(decoded)
    return out


def _in_base(text: str, pattern: str, base: int) -> list[str]:
    out = []
    for m in re.finditer(rf"(?<![\w]){pattern}(?![\w])", text):
        value = int(m.group(), base)
        out.append(str(value))
        if base == 2 and len(m.group()) == 8 and 32 <= value < 127:
            out.append(chr(value))
    if base == 2:  # 8-bit groups spelling characters: "00110111" is "7"
        groups = re.findall(r"(?<![\w])[01]{8}(?![\w])", text)
        if groups:
            out.append("".join(chr(int(g, 2)) for g in groups if 32 <= int(g, 2) < 127))
    return out


def _shift(text: str, n: int) -> str:
    def rotate(ch: str) -> str:
        if "a" <= ch <= "z":
            return chr((ord(ch) - 97 + n) % 26 + 97)
        if "A" <= ch <= "Z":
            return chr((ord(ch) - 65 + n) % 26 + 65)
        return ch
    return "".join(rotate(ch) for ch in text)


def _roman(numeral: str) -> int:
    total = 0
    for ch, following in zip(numeral, numeral[1:] + " "):
        value = _ROMAN_VALUES[ch]
        total += -value if following != " " and _ROMAN_VALUES[following] > value else value
    return total


def _digits_in_pieces(text: str) -> list[str]:
    """Every run of consecutive whole numbers joined up: "1, 2, 6 and 0" -> "1260"."""
    numbers = re.findall(r"(?<![\d.,/])\d{1,3}(?![\d.,/]\d)", text)
    out = []
    for i in range(len(numbers)):
        for j in range(i + 2, min(len(numbers), i + 6) + 1):
            out.append("".join(numbers[i:j]))
    return out
