"""Every EIP-712 struct Waymark signs, defined once.

One module per domain (``shipments``, ``passports``, ``alliance``, ``events``);
each struct's ``type_string`` must hash to the matching contract's TYPEHASH
constant, which ``tests/backend/chain/test_typed_data.py`` checks.
"""
