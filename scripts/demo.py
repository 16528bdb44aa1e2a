"""Serve Waymark on 127.0.0.1:8000 over the in-process chain with seeded data."""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn

from backend.chain.compiler import compile_contracts
from backend.config import get_settings
from backend.main import create_app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    os.environ.setdefault("WAYMARK_CHAIN_BACKEND", "tester")
    compile_contracts()
    settings = get_settings()
    app = create_app(settings)
    base = f"http://{args.host}:{args.port}"
    print(f"Waymark demo on {base}  (chain backend: {settings.chain_backend})")
    print(f"  health:   {base}/health")
    print(f"  API docs: {base}/docs")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
