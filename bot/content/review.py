"""The medical review's checks (issue 12): sources from primary publishers, no diagnosing wording.

`check_publishers` holds every URL of sources.yaml to the domains of content/publishers.yaml.
`check_wording` reads every text the bot shows against the rules of content/wording.yaml: no
text diagnoses the reader or orders them to take a medicine or supplement. Both return
problems instead of raising, like the other checks, so one run reports everything.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.content.models import Problem
from bot.content.yamlfile import parse_yaml

_STRICT = ConfigDict(extra="forbid", frozen=True)
PUBLISHERS_FILE = "publishers.yaml"
SOURCES_FILE = "sources.yaml"
WORDING_FILE = "wording.yaml"

M = TypeVar("M", bound=BaseModel)


class Publisher(BaseModel):
    model_config = _STRICT

    domain: str = Field(
        pattern=r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$",
        description="lower case, no scheme, no www.: its subdomains match too",
    )
    reason: str = Field(
        min_length=10, pattern=r"^[^\n]+$", description="one line: who publishes there"
    )

    @field_validator("domain")
    @classmethod
    def _no_www(cls, domain: str) -> str:
        if domain.startswith("www."):
            raise ValueError("write the domain without www. (subdomains match anyway)")
        return domain


class Publishers(BaseModel):
    model_config = _STRICT

    version: Literal[1]
    publishers: list[Publisher] = Field(min_length=1)


class WordingRule(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    message: str = Field(min_length=3, description="what the matched wording does wrong")
    patterns: tuple[str, ...] = Field(min_length=1)
    unless: tuple[str, ...] = ()
    heading: bool = False
    questions: bool = True


class Wording(BaseModel):
    model_config = _STRICT

    version: Literal[1]
    files: tuple[str, ...] = Field(min_length=1)
    not_checked: tuple[str, ...] = ()
    parts: dict[str, str] = {}
    rules: list[WordingRule] = Field(min_length=1)


def host_matches(host: str, domain: str) -> bool:
    """`host` is `domain` or one of its subdomains (www.nhs.uk and x.y.nhs.uk match nhs.uk)."""
    host = host.lower().rstrip(".")
    return host == domain or host.endswith("." + domain)


def check_publishers(content_dir: Path) -> list[Problem]:
    """Every source URL whose host is not on a domain of publishers.yaml, and that file's own
    problems. sources.yaml's format is checked by the store; unreadable records are skipped."""
    name = f"{content_dir.name}/{PUBLISHERS_FILE}"
    publishers, problems = _read(content_dir / PUBLISHERS_FILE, name, Publishers)
    if publishers is None:
        return problems
    domains = [p.domain for p in publishers.publishers]
    for index, domain in enumerate(domains):
        covering = [d for d in domains[:index] if host_matches(domain, d)]
        covering += [d for d in domains[index + 1 :] if d != domain and host_matches(domain, d)]
        if covering:
            message = f"already covered by {covering[0]!r}"
            if covering[0] == domain:
                message = "duplicate domain"
            problems.append(Problem(file=name, field=f"publishers ({domain})", message=message))
    try:
        data = parse_yaml((content_dir / SOURCES_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return problems
    records = data.get("sources") if isinstance(data, dict) else None
    sources_name = f"{content_dir.name}/{SOURCES_FILE}"
    for index, record in enumerate(records if isinstance(records, list) else []):
        if not isinstance(record, dict) or not isinstance(record.get("url"), str):
            continue
        source_id = record.get("id", f"[{index}]")
        try:
            host = urlsplit(record["url"].strip()).hostname or ""
        except ValueError:
            host = ""
        if not host:
            message = f"source {source_id!r}: the URL has no host"
        elif any(host_matches(host, d) for d in domains):
            continue
        else:
            message = f"source {source_id!r}: host {host!r} is not a primary publisher's domain (add the publisher's own page, not a copy; domains: {name})"
        problems.append(
            Problem(file=sources_name, field=f"sources ({source_id}).url", message=message)
        )
    return problems


@dataclass(frozen=True)
class _Rule:
    rule: WordingRule
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]


def check_wording(content_dir: Path) -> list[Problem]:
    """Every text the bot shows that diagnoses or prescribes, by the rules of wording.yaml."""
    name = f"{content_dir.name}/{WORDING_FILE}"
    wording, problems = _read(content_dir / WORDING_FILE, name, Wording)
    if wording is None:
        return problems
    rules, rule_problems = _compile(wording)
    problems += [
        Problem(file=name, field=field, message=message) for field, message in rule_problems
    ]
    if rule_problems:
        return problems
    skip = set(wording.not_checked)
    paths = sorted(
        {p for pattern in wording.files for p in content_dir.glob(pattern) if p.is_file()}
    )
    for path in paths:
        file = f"{content_dir.name}/{path.relative_to(content_dir).as_posix()}"
        try:
            data = parse_yaml(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            message = f"not readable: {error}".replace("\n", " ")
            problems.append(Problem(file=file, field="-", message=message))
            continue
        for field, text in _texts(data, "", skip):
            for heading, sentence in sentences(text):
                for rule in rules:
                    problems += [
                        Problem(file=file, field=field, message=found)
                        for found in _findings(rule, heading, sentence)
                    ]
    return problems


def _read(path: Path, name: str, model: type[M]) -> tuple[M | None, list[Problem]]:
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [Problem(file=name, field="-", message="missing file")]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        message = f"not valid YAML: {error}".replace("\n", " ")
        return None, [Problem(file=name, field="-", message=message)]
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, [
            Problem(
                file=name,
                field=".".join(str(part) for part in e["loc"]) or "-",
                message=e["msg"],
            )
            for e in error.errors()
        ]


_PART = re.compile(r"\{([a-z_]+)\}")


def _compile(wording: Wording) -> tuple[list[_Rule], list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []

    def expand(text: str, where: str, seen: tuple[str, ...] = ()) -> str:
        def part(match: re.Match[str]) -> str:
            key = match[1]
            if key not in wording.parts:
                problems.append((where, f"unknown part {{{key}}}"))
                return ""
            if key in seen:
                problems.append((where, f"part {{{key}}} refers to itself"))
                return ""
            return "(?:" + expand(wording.parts[key], where, (*seen, key)) + ")"

        return _PART.sub(part, text)

    def build(text: str, where: str, whole_words: bool) -> re.Pattern[str] | None:
        expanded = expand(text, where)
        if whole_words:
            expanded = rf"(?<!\w)(?:{expanded})(?!\w)"
        try:
            return re.compile(expanded, re.IGNORECASE)
        except re.error as error:
            problems.append((where, f"not a valid regular expression: {error}"))
            return None

    rules = []
    for rule in wording.rules:
        where = f"rules ({rule.id})"
        patterns = [build(p, f"{where}.patterns[{i}]", False) for i, p in enumerate(rule.patterns)]
        unless = [build(p, f"{where}.unless[{i}]", True) for i, p in enumerate(rule.unless)]
        rules.append(
            _Rule(
                rule,
                tuple(p for p in patterns if p is not None),
                tuple(p for p in unless if p is not None),
            )
        )
    ids = [r.id for r in wording.rules]
    problems += [
        (f"rules ({i})", "duplicate rule id") for i in sorted({i for i in ids if ids.count(i) > 1})
    ]
    return rules, problems


def _texts(data: Any, where: str, skip: set[str]) -> Iterator[tuple[str, str]]:
    """(field, text) of every string under `data`; a list item with an id is named "key (id)"."""
    if isinstance(data, str):
        yield where or "-", data
    elif isinstance(data, dict):
        for key, value in data.items():
            if str(key) not in skip:
                yield from _texts(value, f"{where}.{key}" if where else str(key), skip)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                label = f"{where} ({item['id']})"
            else:
                label = f"{where}[{index}]"
            yield from _texts(item, label, skip)


_TAG = re.compile(r"<[^>]*>")
_BULLET = re.compile(r"^\s*(?:[•·▪◦*-]|\d{1,2}[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)\s+")
_QUESTION = re.compile(r"\?[\s\"'”’)]*$")


def sentences(text: str) -> Iterator[tuple[str, str]]:
    """(heading, sentence) of a Telegram HTML text: tags dropped, entities decoded, ’ as '.
    Each bullet line is a sentence of its own, with the line above its list as heading."""
    plain = html.unescape(_TAG.sub("", text)).replace("’", "'").replace("\u00a0", " ")
    heading = ""
    for line in plain.split("\n"):
        if not line.strip():
            heading = ""
            continue
        bullet = _BULLET.match(line)
        if bullet:
            line, head = line[bullet.end() :], heading
        else:
            heading, head = line.strip(), ""
        for sentence in _SENTENCE_END.split(line.strip()):
            if sentence:
                yield head, sentence


def _findings(rule: _Rule, heading: str, sentence: str) -> Iterator[str]:
    if not rule.rule.questions and _QUESTION.search(sentence):
        return
    matches = [m for pattern in rule.patterns for m in pattern.finditer(sentence)]
    if not matches:  # most sentences: the `unless` patterns need not be tried (start-up time)
        return
    context = f"{heading} {sentence}" if rule.rule.heading else sentence
    if any(p.search(context) for p in rule.unless):
        return
    for match in matches:
        quote = match[0].strip(" ,;:(—–")
        shown = sentence if len(sentence) <= 160 else sentence[:157] + "…"
        yield f'{rule.rule.message}: "{quote}" (rule {rule.rule.id}; in: "{shown}")'
