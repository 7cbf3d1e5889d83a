"""What Go's own parsers refuse, for the checks that must agree with Go programs: the regexp
syntax (RE2, as Prometheus' relabelling and Alertmanager's matchers compile it), the parse step
of text/template (Prometheus' alert templates, Alertmanager's notification templates) and
net/url's Parse. Each function returns the error Go would give, or None; none of them runs code
from the text it checks.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable

__all__ = ["GO_TEMPLATE_BUILTINS", "regex_error", "template_error", "url_error"]


_POSIX_CLASSES = frozenset(
    [
        "alnum",
        "alpha",
        "ascii",
        "blank",
        "cntrl",
        "digit",
        "graph",
        "lower",
        "print",
        "punct",
        "space",
        "upper",
        "word",
        "xdigit",
    ]
)
_EMPTY_WIDTH = frozenset(("^", "$", "\\A", "\\b", "\\B", "\\Z"))
_REPEAT_RE = re.compile(r"\{(\d+)(,(\d*))?\}")


class _RegexError(Exception):
    pass


def regex_error(pattern: str, *, anchored: bool = True) -> str | None:
    """Go's `regexp.Compile` error for `pattern` (wrapped as Prometheus and Alertmanager wrap
    it, `^(?:…)$`), or None. RE2's refusals are checked here (look-arounds, back-references,
    `(?<name>`, possessive and nested repeats, counts over 1000, unknown escapes and classes);
    the rest of the syntax is left to Python's re after translating what RE2 spells differently."""
    wrapped = f"^(?:{pattern})$" if anchored else pattern
    try:
        translated = _translate_regex(wrapped)
    except _RegexError as exc:
        return f"error parsing regexp: {exc}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(translated)
    except re.error as exc:
        return f"error parsing regexp: {exc.msg}: `{wrapped}`"
    except RecursionError:
        return "error parsing regexp: expression nests too deeply"
    return None


def _translate_regex(p: str) -> str:
    out: list[str] = []
    i = 0
    n = len(p)
    repeatable = False  # is there an atom a quantifier may follow?
    after_repeat = False  # was the last token a quantifier?
    while i < n:
        c = p[i]
        if c == "\\":
            token, i = _escape(p, i, in_class=False)
            out.append(token)
            repeatable, after_repeat = True, False
            continue
        if c == "[":
            token, i = _char_class(p, i)
            out.append(token)
            repeatable, after_repeat = True, False
            continue
        if c == "(":
            if p.startswith("(?", i):
                token, i = _group_open(p, i)
                out.append(token)
            else:
                out.append("(")
                i += 1
            repeatable, after_repeat = False, False  # nothing to repeat right after `(`
            continue
        if c in "*+?" or (c == "{" and _REPEAT_RE.match(p, i)):
            if c == "{":
                m = _REPEAT_RE.match(p, i)
                assert m is not None
                low = int(m.group(1))
                high = low if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
                if low > 1000 or (high is not None and (high > 1000 or high < low)):
                    raise _RegexError(f"invalid repeat count: `{m.group(0)}`")
                token = m.group(0)
                end = m.end()
            else:
                token = c
                end = i + 1
            if after_repeat:
                raise _RegexError(f"invalid nested repetition operator: `{p[i - 1 : end]}`")
            if not repeatable:
                raise _RegexError(f"missing argument to repetition operator: `{token}`")
            if end < n and p[end] == "?":
                token += "?"
                end += 1
            if out and out[-1] in _EMPTY_WIDTH:
                out[-1] = f"(?:{out[-1]})"  # RE2 repeats `^*`; Python wants it grouped
            out.append(token)
            i = end
            after_repeat = True
            continue
        if c == "{":
            out.append("\\{")  # RE2 reads a `{` that starts no repeat as a literal
            i += 1
            repeatable, after_repeat = True, False
            continue
        out.append(c)
        i += 1
        repeatable, after_repeat = c != "|", False
    return "".join(out)


def _group_open(p: str, i: int) -> tuple[str, int]:
    rest = p[i + 2 :]
    if rest.startswith("P<"):
        end = rest.find(">")
        name = rest[2:end] if end > 0 else ""
        if end < 0 or not name or not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise _RegexError(f"invalid named capture: `{p[i : i + 3 + max(end, 0)]}`")
        return "(", i + 2 + end + 1
    m = re.match(r"([imsU]*)(?:-([imsU]*))?([:)])", rest)
    if m is None or (m.group(2) is not None and not m.group(2)) or m.group(0) == ")":
        shown = p[i : i + 3]
        raise _RegexError(f"invalid or unsupported Perl syntax: `{shown}`")
    # Python has no U flag and takes global flags only at the start: validity is unchanged
    # if flag groups are dropped and scoped ones become plain groups.
    return ("(?:" if m.group(3) == ":" else ""), i + 2 + m.end()


def _escape(p: str, i: int, *, in_class: bool) -> tuple[str, int]:
    if i + 1 >= len(p):
        raise _RegexError("trailing backslash at end of expression: ``")
    c = p[i + 1]
    if c in "1234567":
        if i + 2 < len(p) and p[i + 2] in "01234567":
            j = i + 2
            while j < len(p) and j < i + 4 and p[j] in "01234567":
                j += 1
            return "a", j  # an octal escape: some literal
        raise _RegexError(f"invalid escape sequence: `\\{c}`")
    if c == "0":
        j = i + 2
        while j < len(p) and j < i + 4 and p[j] in "01234567":
            j += 1
        return "a", j
    if c == "x":
        if p.startswith("{", i + 2):
            end = p.find("}", i + 3)
            digits = p[i + 3 : end] if end > 0 else ""
            if end < 0 or not re.fullmatch(r"[0-9A-Fa-f]+", digits) or int(digits, 16) > 0x10FFFF:
                raise _RegexError(
                    f"invalid escape sequence: `{p[i : end + 1 if end > 0 else i + 3]}`"
                )
            return "a", end + 1
        if re.fullmatch(r"[0-9A-Fa-f]{2}", p[i + 2 : i + 4]):
            return "a", i + 4
        raise _RegexError(f"invalid escape sequence: `{p[i : i + 4]}`")
    if c in "pP":
        if p.startswith("{", i + 2):
            end = p.find("}", i + 3)
            if end < 0:
                raise _RegexError(f"invalid character class range: `{p[i:]}`")
            return ("a" if in_class else "."), end + 1
        if i + 2 >= len(p):
            raise _RegexError(f"invalid character class range: `{p[i:]}`")
        return ("a" if in_class else "."), i + 3
    if c == "Q" and not in_class:
        end = p.find("\\E", i + 2)
        literal = p[i + 2 :] if end < 0 else p[i + 2 : end]
        return re.escape(literal), (len(p) if end < 0 else end + 2)
    if c in "aftnrv" or c in "dDsSwW":
        return p[i : i + 2], i + 2
    if not in_class and c in "AbB":
        return p[i : i + 2], i + 2
    if not in_class and c == "z":
        return "\\Z", i + 2
    if ord(c) < 0x80 and not c.isalnum():
        return p[i : i + 2], i + 2
    raise _RegexError(f"invalid escape sequence: `\\{c}`")


def _char_class(p: str, i: int) -> tuple[str, int]:
    out = ["["]
    j = i + 1
    if j < len(p) and p[j] == "^":
        out.append("^")
        j += 1
    first = True
    while j < len(p):
        c = p[j]
        if c == "]" and not first:
            out.append("]")
            return "".join(out), j + 1
        first = False
        if p.startswith("[:", j):
            end = p.find(":]", j + 2)
            if end >= 0:
                name = p[j + 2 : end].removeprefix("^")
                if name not in _POSIX_CLASSES:
                    raise _RegexError(f"invalid character class range: `{p[j : end + 2]}`")
                out.append("a")
                j = end + 2
                continue
        if c == "\\":
            token, j = _escape(p, j, in_class=True)
            out.append(token)
            continue
        if c == "[":
            out.append("\\[")
            j += 1
            continue
        out.append(c)
        j += 1
    raise _RegexError(f"missing closing ]: `{p[i:]}`")


# --- Go's text/template, parse level -------------------------------------------------------

GO_TEMPLATE_BUILTINS = frozenset(
    [
        "and",
        "call",
        "html",
        "index",
        "slice",
        "js",
        "len",
        "not",
        "or",
        "print",
        "printf",
        "println",
        "urlquery",
        "eq",
        "ge",
        "gt",
        "le",
        "lt",
        "ne",
    ]
)
_TEMPLATE_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<string>"(?:[^"\\\n]|\\.)*")
      | (?P<raw>`[^`]*`)
      | (?P<char>'(?:[^'\\\n]|\\.)+')
      | (?P<declare>:=)
      | (?P<assign>=)
      | (?P<pipe>\|)
      | (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<comma>,)
      | (?P<number>[+-]?(?:0[xXoObB][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eEpP][+-]?[0-9_]+)?
                       |\.[0-9][0-9_]*(?:[eE][+-]?[0-9]+)?)i?)
      | (?P<variable>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
      | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
    """,
    re.VERBOSE,
)
_CONTROL = ("if", "range", "with", "define", "block")


class _TemplateError(Exception):
    pass


def template_error(
    text: str, functions: Iterable[str], *, variables: Iterable[str] = ()
) -> str | None:
    """The error Go's `text/template` Parse gives for `text` with these functions defined and
    these variables (`$labels`, ...) declared before it, or None. Checks delimiters, quoting,
    comments, block structure (if/range/with/define/block … end, else, break/continue inside
    range), declared variables and known functions — what Parse itself refuses."""
    try:
        _TemplateParser(frozenset(functions), frozenset(variables)).parse(text)
    except _TemplateError as exc:
        return str(exc)
    return None


class _TemplateParser:
    def __init__(self, functions: frozenset[str], variables: frozenset[str]) -> None:
        self.functions = functions
        self.stack: list[tuple[str, set[str]]] = [("", {"$", *variables})]

    def parse(self, text: str) -> None:
        for line, action in self._actions(text):
            self._action(line, action)
        if len(self.stack) > 1:
            last = text.count("\n") + 1
            raise _TemplateError(
                f"template: :{last}: unexpected EOF (an open {{{{{self.stack[-1][0]}}}}})"
            )

    def _actions(self, text: str) -> Iterable[tuple[int, str]]:
        i = 0
        while True:
            start = text.find("{{", i)
            if start < 0:
                return
            line = text.count("\n", 0, start) + 1
            j = start + 2
            if text.startswith("-", j) and j + 1 < len(text) and text[j + 1] in " \t\r\n":
                j += 2
            if text.startswith("/*", j):
                end = text.find("*/", j + 2)
                if end < 0:
                    raise _TemplateError(f"template: :{line}: unclosed comment")
                k = end + 2
                if re.match(r"[ \t\r\n]-\}\}", text[k : k + 4]):
                    k += 2
                if not text.startswith("}}", k):
                    raise _TemplateError(
                        f"template: :{line}: comment ends before closing delimiter"
                    )
                i = k + 2
                continue
            k = j
            while True:
                if k >= len(text):
                    raise _TemplateError(f"template: :{line}: unclosed action")
                c = text[k]
                if c in "\"'`":
                    end = self._quoted_end(text, k)
                    if end < 0:
                        kind = "raw quoted string" if c == "`" else "quoted string"
                        raise _TemplateError(f"template: :{line}: unterminated {kind}")
                    k = end
                    continue
                if text.startswith("}}", k):
                    body = text[j:k]
                    break
                if c in " \t\r\n" and text.startswith("-}}", k + 1):
                    body = text[j:k]
                    k += 1
                    break
                k += 1
            yield line, body
            i = k + 2

    @staticmethod
    def _quoted_end(text: str, k: int) -> int:
        quote = text[k]
        j = k + 1
        while j < len(text):
            c = text[j]
            if c == "\\" and quote != "`":
                j += 2
                continue
            if c == "\n" and quote != "`":
                return -1
            if c == quote:
                return j + 1
            j += 1
        return -1

    def _tokens(self, line: int, body: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(body):
            m = _TEMPLATE_TOKEN.match(body, pos)
            if m is None or m.end() == pos:
                raise _TemplateError(f"template: :{line}: unexpected {body[pos]!r} in command")
            kind = m.lastgroup or ""
            if kind != "space":
                tokens.append((kind, m.group(0)))
            pos = m.end()
        return tokens

    def _visible(self) -> set[str]:
        names: set[str] = set()
        for kind, scope in reversed(self.stack):
            names |= scope
            if kind == "define":
                break  # a definition sees only its own `$`
        return names

    def _action(self, line: int, body: str) -> None:
        tokens = self._tokens(line, body)
        where = f"template: :{line}:"
        if not tokens:
            raise _TemplateError(f"{where} missing value for command")
        kind, word = tokens[0]
        if kind == "ident" and word in ("end", "else", "break", "continue"):
            self._keyword(where, word, tokens[1:])
            return
        if kind == "ident" and word in _CONTROL:
            if word in ("define", "block"):
                if not tokens[1:] or tokens[1][0] not in ("string", "raw"):
                    raise _TemplateError(f"{where} unexpected name in {word} clause")
                if word == "define":
                    if len(self.stack) > 1:
                        raise _TemplateError(f"{where} unexpected <define> in command")
                    if len(tokens) > 2:
                        raise _TemplateError(f"{where} unexpected token in define clause")
                    self.stack.append(("define", {"$"}))
                    return
                self._pipeline(where, tokens[2:], allow_empty=False)
                self.stack.append(("block", set()))
                return
            scope: set[str] = set()
            self._pipeline(where, tokens[1:], allow_empty=False, declare=scope, keyword=word)
            self.stack.append((word, scope))
            return
        if kind == "ident" and word == "template":
            if not tokens[1:] or tokens[1][0] not in ("string", "raw"):
                raise _TemplateError(f"{where} unexpected name in template clause")
            self._pipeline(where, tokens[2:], allow_empty=True)
            return
        self._pipeline(where, tokens, allow_empty=False, declare=self.stack[-1][1])

    def _keyword(self, where: str, word: str, rest: list[tuple[str, str]]) -> None:
        if word == "end":
            if len(self.stack) == 1 or rest:
                raise _TemplateError(f"{where} unexpected {{{{end}}}}")
            self.stack.pop()
            return
        if word in ("break", "continue"):
            if not any(kind == "range" for kind, _ in self.stack) or rest:
                raise _TemplateError(f"{where} {{{{{word}}}}} outside {{{{range}}}}")
            return
        # else
        if self.stack[-1][0] not in ("if", "range", "with"):
            raise _TemplateError(f"{where} unexpected {{{{else}}}}")
        if rest:
            if rest[0] != ("ident", "if") or self.stack[-1][0] == "range":
                raise _TemplateError(f"{where} unexpected {rest[0][1]!r} in else")
            self.stack[-1] = (self.stack[-1][0], set())
            self._pipeline(where, rest[1:], allow_empty=False, declare=self.stack[-1][1])

    def _pipeline(
        self,
        where: str,
        tokens: list[tuple[str, str]],
        *,
        allow_empty: bool,
        declare: set[str] | None = None,
        keyword: str = "",
    ) -> None:
        if not tokens:
            if allow_empty:
                return
            raise _TemplateError(f"{where} missing value for {keyword or 'command'}")
        declared: list[str] = []
        for end in range(len(tokens)):
            if tokens[end][0] in ("declare", "assign"):
                names = tokens[:end]
                if (
                    all(k in ("variable", "comma") for k, _ in names)
                    and names
                    and names[0][0] == "variable"
                ):
                    declared = [v for k, v in names if k == "variable"]
                    if tokens[end][0] == "assign":
                        for name in declared:
                            if name not in self._visible():
                                raise _TemplateError(f"{where} undefined variable {name!r}")
                    elif len(declared) > (2 if keyword == "range" else 1):
                        raise _TemplateError(f"{where} too many declarations in command")
                    tokens = tokens[end + 1 :]
                break
        if not tokens:
            raise _TemplateError(f"{where} missing value for command")
        depth = 0
        expect_operand = True
        for kind, value in tokens:
            if kind == "lparen":
                depth += 1
                expect_operand = True
                continue
            if kind == "rparen":
                depth -= 1
                if depth < 0:
                    raise _TemplateError(f"{where} unexpected right paren")
                continue
            if kind == "pipe":
                if expect_operand:
                    raise _TemplateError(f"{where} missing value for command")
                expect_operand = True
                continue
            if kind in ("declare", "assign", "comma"):
                raise _TemplateError(f"{where} unexpected {value!r} in operand")
            expect_operand = False
            if kind == "variable":
                name = value.split(".", 1)[0]
                if name not in self._visible():
                    raise _TemplateError(f"{where} undefined variable {name!r}")
            elif kind == "ident":
                name = value.split(".", 1)[0]
                if name in ("true", "false", "nil"):
                    continue
                if name in _CONTROL or name in ("end", "else", "template", "break", "continue"):
                    raise _TemplateError(f"{where} unexpected <{name}> in command")
                if name not in self.functions:
                    raise _TemplateError(f'{where} function "{name}" not defined')
        if depth:
            raise _TemplateError(f"{where} unclosed left paren")
        if expect_operand:
            raise _TemplateError(f"{where} missing value for command")
        if tokens == [("ident", "nil")]:
            raise _TemplateError(f"{where} nil is not a command")
        if declare is not None:
            declare.update(declared)


# --- Go's net/url -------------------------------------------------------------------------


def url_error(text: str) -> str | None:
    """The error Go's `url.Parse` gives for `text`, or None (the URL itself is not repeated:
    it may carry a password)."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return "net/url: invalid control character in URL"
    for m in re.finditer(r"%(.{0,2})", text):
        if not re.fullmatch(r"[0-9A-Fa-f]{2}", m.group(1)):
            return "invalid URL escape"
    rest = text.split("#", 1)[0]
    scheme_match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", rest)
    if rest.startswith(":"):
        return "missing protocol scheme"
    if scheme_match is None:
        colon = rest.find(":")
        slash = rest.find("/")
        if colon >= 0 and (slash < 0 or colon < slash) and not rest.startswith("/"):
            return "first path segment in URL cannot contain colon"
        return None
    rest = rest[scheme_match.end() :]
    if rest.startswith("//"):
        authority = rest[2:].split("/", 1)[0].split("?", 1)[0]
        host = authority.rsplit("@", 1)[-1]
        if host.startswith("["):
            close = host.find("]")
            if close < 0:
                return "missing ']' in host"
            port = host[close + 1 :]
            if port and not re.fullmatch(r":[0-9]*", port):
                return "invalid port after host"
        elif ":" in host:
            port = host[host.rfind(":") :]
            if not re.fullmatch(r":[0-9]*", port):
                return "invalid port after host"
    return None
