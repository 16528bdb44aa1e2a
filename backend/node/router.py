"""``GET /.well-known/waymark/deployment.json`` and, on the in-process chain, ``POST /rpc``.

The manifest is the operator's statement of which contracts it runs on; a
verifier that trusts the operator names its URL as the trust manifest, one that
does not names a manifest from elsewhere. ``/rpc`` exists because the
eth-tester chain has no node of its own: read methods only
(:data:`backend.chain.gateway.READ_METHODS`), so nothing can be sent or mined
through it. On anvil or a real chain it answers 404: use that node.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from backend.chain import gateway
from backend.deps import ChainDep, DeploymentDep
from backend.errors import NotFound, PayloadTooLarge, ServiceUnavailable

router = APIRouter(tags=["verification"])

MANIFEST_PATH = "/.well-known/waymark/deployment.json"


@router.get(MANIFEST_PATH)
def get_deployment_manifest(deployment: DeploymentDep) -> JSONResponse:
    """The deployment manifest (chain id, each contract's address, ABI hash, version, block)."""
    if deployment is None:
        raise ServiceUnavailable("the contracts are not deployed yet")
    return JSONResponse(deployment.to_json(), headers={"Cache-Control": "public, max-age=60"})


@router.post("/rpc", include_in_schema=False)
async def post_rpc(request: Request, chain: ChainDep) -> JSONResponse:
    """Read-only JSON-RPC 2.0 (single or batch) over the in-process chain."""
    if chain.backend != "tester":
        raise NotFound("no JSON-RPC here: the service runs on a node of its own; use that node")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > gateway.MAX_BODY_BYTES:
            raise PayloadTooLarge(f"a JSON-RPC body is at most {gateway.MAX_BODY_BYTES} bytes")
    try:
        payload: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JSONResponse(gateway.error(gateway.PARSE_ERROR, "body is not JSON"))
    return JSONResponse(await run_in_threadpool(gateway.answer, chain, payload))
