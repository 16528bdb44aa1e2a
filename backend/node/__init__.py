"""What an outside verifier needs from the service: its deployment manifest and, on the demo chain, a node."""
