"""Signed webhooks: subscriptions, a durable outbox, delivery with retries, a delivery log."""
