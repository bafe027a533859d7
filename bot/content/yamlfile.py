"""Reading YAML with libyaml when it is there: start-up time is mostly YAML parsing.

Each content file is read by several checkers at start-up (its loader, the cross-reference
check, the wording review), so a text parsed once is remembered — as pickled bytes, so that
every caller gets its own copy to change and a cached parse can never leak between them.
Loading ends with `forget()`: the texts are not worth their memory once read.
"""

from __future__ import annotations

import pickle  # nosec B403  # only our own bytes, made in this process, are unpickled
from functools import lru_cache

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> object:
    return pickle.loads(_parsed(text))  # noqa: S301  # nosec B301  # see the import


@lru_cache(maxsize=32)
def _parsed(text: str) -> bytes:
    data = yaml.load(text, Loader=_LOADER)  # noqa: S506  # nosec B506  # both loaders are the safe ones
    return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)


def forget() -> None:
    _parsed.cache_clear()
