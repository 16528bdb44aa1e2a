"""PageCache: expiry with one re-render at a time, invalidation by the indexer."""

from __future__ import annotations

from backend.chain import DecodedEvent
from backend.qr.service import PageCache, RenderedPage

PID_A = "0x" + "aa" * 32
PID_B = "0x" + "bb" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _page(cache: PageCache, pid: str, body: bytes = b"<html>") -> RenderedPage:
    return RenderedPage(pid, body, {}, cache.clock() + cache.ttl)


def _event(name: str, **args: object) -> DecodedEvent:
    return DecodedEvent(name, "0x" + "00" * 20, args, 0, 1, "0x" + "11" * 32)


def test_expired_page_is_rerendered_by_one_caller_while_others_get_the_old_copy() -> None:
    clock = Clock()
    cache = PageCache(ttl=30, clock=clock)
    old = _page(cache, PID_A, b"old")
    cache.put("/01/a", old)
    assert cache.get("/01/a") is old
    clock.now += 31
    assert cache.get("/01/a") is None  # this caller renders
    assert cache.get("/01/a") is old  # the others are not sent to the database meanwhile
    clock.now += PageCache.REFRESH_SECONDS + 1
    assert cache.get("/01/a") is None  # the first renderer gave up: someone else tries
    new = _page(cache, PID_A, b"new")
    cache.put("/01/a", new)
    assert cache.get("/01/a") is new


def test_indexer_events_drop_the_pages_they_change() -> None:
    cache = PageCache(ttl=30, clock=Clock())
    cache.put("/01/a", _page(cache, PID_A))
    cache.put("/01/a/21/1", _page(cache, PID_A))
    cache.put("/01/b", _page(cache, PID_B))
    cache.on_indexed([_event("PassportRecalled", passportId=bytes.fromhex(PID_A[2:]))])
    assert cache.get("/01/a") is None
    assert cache.get("/01/a/21/1") is None
    assert cache.get("/01/b") is not None
    cache.on_indexed([_event("MilestoneRecorded", shipmentId=b"\x01" * 32)])
    assert cache.get("/01/b") is None
    cache.put("/01/b", _page(cache, PID_B))
    cache.on_indexed(None)  # a reorg rollback
    assert cache.get("/01/b") is None


def test_zero_ttl_disables_the_cache() -> None:
    cache = PageCache(ttl=0, clock=Clock())
    cache.put("/01/a", _page(cache, PID_A))
    assert cache.get("/01/a") is None
