"""The subset of HTML that Telegram's `parse_mode=HTML` accepts.

Checked at content load and in tests on every reply, because Telegram rejects a
whole message when one tag is wrong — the user would get nothing at all.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

SUPPORTED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
    | {"blockquote", "tg-spoiler", "span"}
)
_BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)")


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SUPPORTED_TAGS:
            self.problems.append(f"unsupported tag <{tag}>")
            return
        if tag == "a" and not any(name == "href" and value for name, value in attrs):
            self.problems.append("<a> without href")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing tag <{tag}/> is not allowed")

    def handle_endtag(self, tag: str) -> None:
        if tag not in SUPPORTED_TAGS:
            self.problems.append(f"unsupported tag </{tag}>")
        elif not self.stack or self.stack[-1] != tag:
            open_tag = self.stack[-1] if self.stack else "nothing"
            self.problems.append(f"</{tag}> closes {open_tag}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.problems.append("unescaped < or > in text (write &lt; &gt;)")

    def handle_comment(self, data: str) -> None:
        self.problems.append("HTML comments are not allowed")


def html_problems(text: str) -> list[str]:
    """Every reason Telegram would refuse `text` as HTML; empty when it is fine."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    problems = checker.problems
    if checker.rawdata:
        problems.append("unterminated tag")
    if checker.stack:
        problems.append("unclosed tag(s): " + ", ".join(f"<{t}>" for t in checker.stack))
    if _BARE_AMPERSAND.search(text):
        problems.append("unescaped & (write &amp;)")
    return problems
