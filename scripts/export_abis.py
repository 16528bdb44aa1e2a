"""Write the compiled ABIs of the registries a proof verifier reads to backend/qr/abi/.

The verifier takes its selectors and event topics from these files, so it runs
where no compiler is installed; tests/backend/qr/test_abi_export.py holds them
equal to the build. Run after changing a pinned contract's interface.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.chain.compiler import compile_contracts
from backend.qr.bundle.verify import ABI_DIR, PINNED


def main() -> int:
    artifacts = compile_contracts()
    ABI_DIR.mkdir(parents=True, exist_ok=True)
    for name in PINNED:
        path = ABI_DIR / f"{name}.json"
        path.write_text(json.dumps(artifacts[name].abi, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
