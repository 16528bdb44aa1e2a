"""Deploy the contract set to the configured chain and write deployments/<chainId>.json.

Uses WAYMARK_CHAIN_BACKEND / WAYMARK_RPC_URL / WAYMARK_RELAYER_PRIVATE_KEY and, on a\nreal chain, WAYMARK_SETTLEMENT_TOKEN (the test stablecoin is deployed only on dev chains).
On the in-process tester chain the deployment lives only as long as this
process, so this is mostly useful against anvil or a real RPC node.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.chain import make_chain
from backend.chain.deployments import deploy_all, save
from backend.config import get_settings


def main() -> int:
    settings = get_settings()
    chain = make_chain(settings)
    deployment = deploy_all(chain, settlement_token=settings.settlement_token)
    path = save(deployment)
    print(json.dumps(deployment.to_json(), indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
