"""Split Telegram HTML into messages that fit Telegram's 4096-character limit.

A naive cut can land inside a tag (`<a hr|ef=…>`), an entity (`&am|p;`) or between an opening
and closing tag, and Telegram then rejects the whole message ("can't parse entities"). Here a
cut only falls between whole tags, entities and words — preferably at a paragraph or line
break — and every tag still open at a cut is closed at the end of one part and reopened at the
start of the next. Lengths are counted in UTF-16 code units, as Telegram counts them, on the
raw HTML (an upper bound of the length Telegram checks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TELEGRAM_LIMIT = 4096

_TOKEN = re.compile(r"<[^<>]*>|&#?[A-Za-z0-9]+;|[^<&\s]+\s*|\s+|[<&]")
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: characters outside the BMP count twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@dataclass(frozen=True, slots=True)
class _Atom:
    text: str
    stack_after: tuple[tuple[str, str], ...]  # (tag name, full opening tag) still open
    visible: bool  # carries text the user sees


def _closing(stack: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _opening(stack: tuple[tuple[str, str], ...]) -> str:
    return "".join(tag for _, tag in stack)


def _atoms(html: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    stack: list[tuple[str, str]] = []
    for token in _TOKEN.findall(html):
        tag = _TAG.match(token) if token.startswith("<") and token.endswith(">") else None
        if tag:
            closing, name = tag.group(1) == "/", tag.group(2).lower()
            if closing:
                for depth in range(len(stack) - 1, -1, -1):
                    if stack[depth][0] == name:
                        del stack[depth:]
                        break
            else:
                stack.append((name, token))
            atoms.append(_Atom(token, tuple(stack), visible=False))
            continue
        atoms.append(_Atom(token, tuple(stack), visible=not token.isspace()))
    return atoms


def split_html(html: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split `html` into parts of at most `limit` UTF-16 units, each well-formed on its own."""
    if utf16_len(html) <= limit:
        return [html]
    parts: list[str] = []
    atoms = _atoms(html)
    start_stack: tuple[tuple[str, str], ...] = ()
    i = 0
    while i < len(atoms):
        prefix = _opening(start_stack)
        size = utf16_len(prefix)
        taken: list[_Atom] = []
        while i < len(atoms):
            atom = atoms[i]
            if not taken and atom.text.isspace():
                i += 1  # no part starts with blank space
                continue
            new_size = size + utf16_len(atom.text)
            closing = utf16_len(_closing(atom.stack_after))
            if new_size + closing > limit:
                if any(a.visible for a in taken):
                    break
                # Nothing to show in this part yet: cut a word longer than the room left.
                if atom.visible and not atom.text.startswith("&"):
                    head, tail = _cut(atom.text, limit - size - closing)
                    if head and tail:
                        atoms[i : i + 1] = [
                            _Atom(head, atom.stack_after, True),
                            _Atom(tail, atom.stack_after, True),
                        ]
                        continue
                # Otherwise only absurd tags can be this long: send them as they are.
            taken.append(atom)
            size = new_size
            i += 1
        if i < len(atoms):
            cut = _best_cut(taken, limit)
            i -= len(taken) - cut - 1
            taken = taken[: cut + 1]
        body = "".join(atom.text for atom in taken)
        end_stack = taken[-1].stack_after if taken else start_stack
        if any(atom.visible for atom in taken):
            parts.append((prefix + body).rstrip() + _closing(end_stack))
        # else: only tags were left (closing tags after the last cut): nothing to send.
        start_stack = end_stack
    return parts


def _cut(text: str, room: int) -> tuple[str, str]:
    """Split `text` so that the head takes at most `room` UTF-16 units."""
    size, cut = 0, 0
    while cut < len(text) and size + utf16_len(text[cut]) <= room:
        size += utf16_len(text[cut])
        cut += 1
    return text[:cut], text[cut:]


def _best_cut(taken: list[_Atom], limit: int) -> int:
    """Index of the atom to end this part after: a paragraph break, else a line break, else
    a space — but not so early that the part would be mostly empty."""
    floor = limit // 2
    running = 0
    best_para = best_line = best_space = -1
    seen_text = False
    for k, atom in enumerate(taken):
        running += len(atom.text)
        seen_text = seen_text or atom.visible
        if not seen_text or not atom.text[-1:].isspace():
            continue
        best_space = k  # any space will do if there is nothing better
        if running < floor:
            continue
        if atom.text.endswith("\n\n") or (atom.text.isspace() and atom.text.count("\n") >= 2):
            best_para = k
        elif atom.text.endswith("\n"):
            best_line = k
    cut = next((k for k in (best_para, best_line, best_space) if k >= 0), len(taken) - 1)
    # Do not end a part on an opening tag: it would be sent empty and reopened next time.
    while cut > 0 and _is_opening(taken[cut]):
        cut -= 1
    return cut


def _is_opening(atom: _Atom) -> bool:
    return not atom.visible and atom.text.startswith("<") and not atom.text.startswith("</")
