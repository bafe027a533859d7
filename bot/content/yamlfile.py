"""Reading YAML with libyaml when it is there: start-up time is mostly YAML parsing."""

from __future__ import annotations

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> object:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506  # nosec B506  # both loaders are the safe ones
