"""A webhook receiver for the demo: keeps what arrives, checks each signature, lists it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from backend.webhooks import signing


class WebhookInbox:
    """``POST`` stores a delivery; ``GET`` answers the list (newest first) as JSON."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.secret: str | None = None
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                inbox.accept({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(204)
                self.end_headers()

            def do_GET(self) -> None:
                payload = json.dumps({"received": inbox.listing()}, indent=2).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self._server.server_address[1]}/"

    def accept(self, headers: dict[str, str], body: bytes) -> None:
        with self._lock:
            self.received.append({"headers": headers, "body": body, "at": int(time.time())})

    def _verified(self, headers: dict[str, str], body: bytes) -> bool:
        """Checked when listed: the secret is known once the subscription exists."""
        if self.secret is None:
            return False
        try:
            expected = signing.signature(
                self.secret,
                msg_id=headers.get("webhook-id", ""),
                timestamp=int(headers.get("webhook-timestamp", "0")),
                body=body,
            )
        except ValueError:
            return False
        return expected in headers.get("webhook-signature", "").split(" ")

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            items = list(reversed(self.received))
        out = []
        for item in items:
            try:
                payload = json.loads(item["body"])
            except ValueError:
                payload = None
            out.append(
                {
                    "webhook_id": item["headers"].get("webhook-id"),
                    "type": payload.get("type") if isinstance(payload, dict) else None,
                    "signature_verified": self._verified(item["headers"], item["body"]),
                    "received_at": item["at"],
                    "payload": payload,
                }
            )
        return out

    def start(self) -> None:
        threading.Thread(
            target=self._server.serve_forever, name="webhook-inbox", daemon=True
        ).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
