"""EPCIS 2.0 JSON-LD export of supply events, with CBV 2.0 event hash ids.

Errors raised by this package::

    EpcisError
     ├── IdentifierError     (a key cannot be expressed as an EPC URI / Digital Link)
     └── SchemaError         (a built document fails the GS1 EPCIS 2.0 JSON schema)
"""
