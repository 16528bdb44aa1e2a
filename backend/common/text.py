"""Free-text checks: no control characters, no bidirectional overrides."""

from __future__ import annotations

import unicodedata

# Bidi embedding/override/isolate controls (Trojan Source, CVE-2021-42574).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def safe_text(value: str) -> str:
    """Refuse NUL and other control characters and bidi controls in user text."""
    for ch in value:
        if ch in _BIDI:
            raise ValueError(f"bidirectional control character U+{ord(ch):04X} is not allowed")
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise ValueError(f"control character U+{ord(ch):04X} is not allowed")
    return value
