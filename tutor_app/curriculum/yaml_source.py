"""Read a teacher's YAML file safely, remembering on which line every field was written.

``yaml.safe_load`` throws the line numbers away, but a teacher needs "line 12" to find a
typo. So we compose the node tree (which carries marks), build the data from that same tree,
and keep a map from field paths such as ``("problems", 0, "steps", 1, "check")`` to lines.

Scalars are kept as the text the teacher typed: plain YAML 1.1 would turn ``answer: 8`` into
an int, ``answer: yes`` into ``True``, ``answer: 1:30`` into 90 and ``answer: 007`` into 7,
none of which is what a teacher means by an answer. Pydantic turns the text into numbers and
booleans where the schema asks for them. ``null``/``~``/empty stay None. The loader is a
``SafeLoader`` subclass, so no Python object can be constructed from a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

NULL_TAG = "tag:yaml.org,2002:null"
MAX_EXPANDED_NODES = 200_000
MERGE_TAG = "tag:yaml.org,2002:merge"


class TextScalarLoader(yaml.SafeLoader):
    """SafeLoader that resolves only null and merge keys implicitly; every other scalar is text."""


TextScalarLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in (NULL_TAG, MERGE_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# LaTeX commands whose first letter YAML treats as an escape inside double quotes, so that
# "\frac" silently becomes a form feed followed by "rac". Other letters (\cdot, \sqrt) make
# YAML fail outright, which the syntax-error hint below explains.
LATEX_ESCAPE_VICTIMS = {
    "alpha", "approx", "arccos", "arcsin", "arctan", "ast", "bar", "beta", "bigcup", "bigcap", "binom",
    "bmatrix", "begin", "boxed", "bot", "emptyset", "end", "epsilon", "equiv", "eta", "exp", "frac",
    "forall", "nabla", "ne", "neg", "neq", "not", "notin", "nu", "rangle", "rceil", "rfloor", "rho",
    "right", "rightarrow", "tan", "tau", "text", "textbf", "textit", "textrm", "theta", "times", "to",
    "top", "triangle", "varepsilon", "varphi", "vec", "vee", "vert", "eq", "exists", "frown", "flat",
    "bullet", "because", "therefore", "tfrac", "dfrac", "vdots", "angle", "aleph", "overline",
}
_ESCAPE = re.compile(r"\\(\\|[A-Za-z]+)")
DOUBLE_QUOTE_HINT = ("inside double quotes YAML reads a backslash as an escape; "
                     "write LaTeX in single quotes ('$\\frac{1}{2}$') or in a block (|)")


@dataclass
class SourceMap:
    """Field path -> 1-based line where that key or list item was written."""

    lines: dict[tuple, int] = field(default_factory=dict)

    def line(self, loc: tuple) -> int | None:
        """The line of the deepest written part of ``loc``: a missing field points at its parent."""
        loc = tuple(loc)
        for end in range(len(loc), -1, -1):
            found = self.lines.get(loc[:end])
            if found is not None:
                return found
        return None


@dataclass
class YamlIssue:
    """A problem found while reading, before any schema: (field path, line, message)."""

    loc: tuple
    line: int | None
    message: str


@dataclass
class ParsedYaml:
    data: object
    source: SourceMap
    issues: list[YamlIssue]


class YamlSyntaxError(Exception):
    """``line``: where the teacher should look (the start of the broken value when that is known);
    ``gave_up_line``: where the parser stopped, when that is another line."""

    def __init__(self, line: int | None, message: str, *, gave_up_line: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.gave_up_line = gave_up_line


def parse_yaml(text: str) -> ParsedYaml:
    """Parse one YAML document; raises ``YamlSyntaxError`` with a line and a hint."""
    loader = None
    try:
        loader = TextScalarLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text) from None
    except yaml.reader.ReaderError as exc:
        line = text[:exc.position].count("\n") + 1
        raise YamlSyntaxError(line, f"the file contains a control character (code {exc.character:#04x}) that YAML "
                                    f"does not allow; delete it") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(None, f"YAML syntax error: {exc}") from None
    except RecursionError:
        raise YamlSyntaxError(None, "the file is nested too deeply to be a curriculum") from None
    finally:
        if loader is not None:
            loader.dispose()
    source, issues = SourceMap({(): 1}), []
    if node is not None:
        size = _expanded_size(node, {}, set())
        if size > MAX_EXPANDED_NODES:
            raise YamlSyntaxError(None, f"anchors and aliases (&, *) expand this file to {size} values; "
                                        f"at most {MAX_EXPANDED_NODES} are allowed")
        source.lines[()] = node.start_mark.line + 1
        try:
            _walk(node, (), text, source, issues, set())
        except RecursionError:
            raise YamlSyntaxError(None, "the file is nested too deeply to be a curriculum") from None
    return ParsedYaml(data, source, issues)


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int]) -> int:
    """How many values the document holds once aliases are expanded (what validation will walk)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise YamlSyntaxError(node.start_mark.line + 1, "an alias (*name) refers to a value that contains it")
    active.add(key)
    children = ([v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode)
                else node.value if isinstance(node, yaml.SequenceNode) else [])
    total = 1
    for child in children:
        total += _expanded_size(child, memo, active)
        if total > MAX_EXPANDED_NODES:
            break
    active.discard(key)
    memo[key] = total
    return total


def _syntax_error(exc: yaml.MarkedYAMLError, text: str) -> YamlSyntaxError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "not valid YAML"
    if exc.context_mark is not None and ("<stream end>" in problem or "end of stream" in problem):
        # YAML notices at the end of the file; the mistake is where the bracket or quote was opened.
        opened = {"flow sequence": "a [", "flow mapping": "a {", "quoted scalar": "a quote"}
        what = next((v for k, v in opened.items() if k in (exc.context or "")), None)
        line = exc.context_mark.line + 1
        if what is None:  # "while parsing a flow node": the bracket is found by reading the tokens again
            line, what = _unclosed_bracket(text, exc.problem_mark or exc.context_mark) or (line, "something")
        return YamlSyntaxError(line, f"YAML syntax error: {what} opened on this line is never closed")
    if "expected a single document" in str(exc):
        problem = "more than one YAML document ('---'); one file holds one unit"
    if isinstance(exc, yaml.parser.ParserError) and exc.problem_mark is not None:
        runaway = _runaway_quote(text, exc.problem_mark)
        if runaway is not None:
            return runaway.error(exc)
        problem += _enclosing(exc)
    message = f"YAML syntax error: {problem}"
    if "escape character" in problem:
        message += f" ({DOUBLE_QUOTE_HINT})"
    elif "'\\t'" in problem:
        message += " (indent with spaces, not tabs)"
    elif "expected ',' or '}'" in problem or "expected ',' or ']'" in problem:
        message += " (inside { } or [ ], put texts containing , ? : # [ ] { } in quotes)"
    elif "mapping values are not allowed" in problem:
        message += " (a text containing ': ' needs quotes)"
    elif "found character '`'" in problem or "found character '@'" in problem:
        message += " (a text starting with ` or @ needs quotes)"
    return YamlSyntaxError(mark.line + 1 if mark is not None else None, message)


@dataclass(frozen=True)
class _RunawayQuote:
    """A quoted value that swallowed the lines after it: its closing quote is missing, so YAML
    read on to the next quote character, possibly many lines further down, and gave up only
    there. The teacher must be sent to where the value starts, not where YAML stopped."""

    start_line: int  # 1-based
    end_line: int
    quote: str

    def error(self, exc: yaml.MarkedYAMLError) -> YamlSyntaxError:
        gave_up = exc.problem_mark.line + 1
        where = (f"line {gave_up}" if gave_up == self.end_line
                 else f"line {self.end_line}, and gave up on line {gave_up}")
        return YamlSyntaxError(
            self.start_line,
            f"YAML syntax error: the text in {self.quote} quotes that starts on this line is not closed on it, so "
            f"YAML read on to the next {self.quote} quote on {where} ({exc.problem}); close the quote on line "
            f"{self.start_line}", gave_up_line=gave_up)


def _tokens_before(text: str, mark: yaml.Mark) -> list[yaml.Token]:
    """The tokens YAML's scanner read before ``mark`` (the scanner stops at its own first error)."""
    loader = TextScalarLoader(text)
    tokens = []
    try:
        while loader.check_token():
            token = loader.get_token()
            if token.start_mark.index >= mark.index:
                break
            tokens.append(token)
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return tokens


def _unclosed_bracket(text: str, mark: yaml.Mark) -> tuple[int, str] | None:
    """(line, "a [" or "a {") of the innermost bracket still open at ``mark``."""
    open_brackets = []
    for token in _tokens_before(text, mark):
        if isinstance(token, (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken)):
            open_brackets.append(token)
        elif isinstance(token, (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken)) and open_brackets:
            open_brackets.pop()
    if not open_brackets:
        return None
    token = open_brackets[-1]
    return token.start_mark.line + 1, "a [" if isinstance(token, yaml.FlowSequenceStartToken) else "a {"


def _runaway_quote(text: str, problem_mark: yaml.Mark) -> _RunawayQuote | None:
    """The last value the scanner finished before the parser gave up, when it is a quoted text
    spanning several lines: in a teacher's file that is a missing closing quote, not a wish."""
    scalars = [t for t in _tokens_before(text, problem_mark) if isinstance(t, yaml.ScalarToken)]
    last = scalars[-1] if scalars else None
    if last is None or last.style not in ("'", '"') or last.end_mark.line == last.start_mark.line:
        return None
    return _RunawayQuote(last.start_mark.line + 1, last.end_mark.line + 1,
                         "double" if last.style == '"' else "single")


def _enclosing(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's context mark, in words: where the block YAML was reading began, when that is
    another line than where it gave up (the mistake is somewhere between the two)."""
    if exc.context_mark is None or exc.problem_mark is None or exc.context_mark.line == exc.problem_mark.line:
        return ""
    what = (exc.context or "").removeprefix("while parsing ").removeprefix("a ").strip() or "block"
    return f" (in the {what} that starts on line {exc.context_mark.line + 1}; the mistake is between there and here)"


def _walk(node: yaml.Node, loc: tuple, text: str, source: SourceMap, issues: list[YamlIssue], seen: set[int]) -> None:
    if id(node) in seen:  # an alias: its lines were recorded where the anchor was written
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in first_seen and key != "<<":
                issues.append(YamlIssue(loc + (key,), line, f"duplicate key {key!r} (first written on line "
                                        f"{first_seen[key]}); YAML would silently keep only the last one"))
                continue
            first_seen[key] = line
            source.lines[loc + (key,)] = line
            _walk(value_node, loc + (key,), text, source, issues, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            source.lines[loc + (index,)] = item.start_mark.line + 1
            _walk(item, loc + (index,), text, source, issues, seen)
    elif isinstance(node, yaml.ScalarNode) and node.style == '"':
        raw = text[node.start_mark.index:node.end_mark.index]
        for match in _ESCAPE.finditer(raw):
            if match.group(1) in LATEX_ESCAPE_VICTIMS:
                issues.append(YamlIssue(loc, node.start_mark.line + 1,
                                        f"'\\{match.group(1)}' would lose its backslash: {DOUBLE_QUOTE_HINT}"))
                break


def describe(value: object) -> str:
    """How a value reads to a teacher: 'a list', 'a mapping', 'the text ...'."""
    if isinstance(value, dict):
        return "a mapping (key: value lines)"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{value!r}"


__all__ = ["ParsedYaml", "SourceMap", "TextScalarLoader", "YamlIssue", "YamlSyntaxError", "describe", "parse_yaml"]
