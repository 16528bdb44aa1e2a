"""GS1 identity: GTINs, Digital Link syntax and keys with their level and passport id.

The ground floor every domain builds on (events, EPCIS, passports, shipments, the
resolver); it imports nothing else from ``backend``. Errors are drawn in
:mod:`backend.gs1.errors`.
"""
