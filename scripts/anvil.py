"""Run a local anvil on 127.0.0.1 (state and HOME in a temp dir) until Ctrl-C."""

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.chain.anvil import AnvilNode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument(
        "--block-time",
        type=float,
        default=1.0,
        help="seconds between interval blocks (transactions are still mined at once)",
    )
    args = parser.parse_args()
    node = AnvilNode(port=args.port, block_time=args.block_time).start()
    print(f"anvil listening on {node.url} (chain id {node.chain_id}); Ctrl-C stops it")
    print(f"use: WAYMARK_CHAIN_BACKEND=anvil WAYMARK_RPC_URL={node.url}")
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop and node.proc is not None and node.proc.poll() is None:
            time.sleep(0.5)
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
