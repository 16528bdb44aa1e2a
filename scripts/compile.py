"""Compile contracts/ into build/contracts (skipped when nothing changed)."""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.chain.compiler import CompilationError, compile_contracts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="recompile even if cached")
    args = parser.parse_args()
    started = time.perf_counter()
    try:
        artifacts = compile_contracts(force=args.force)
    except CompilationError as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        return 1
    took = time.perf_counter() - started
    print(f"{len(artifacts)} contracts ready in build/contracts ({took:.2f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
