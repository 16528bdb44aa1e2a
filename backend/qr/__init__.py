"""Consumer QR layer: GS1 Digital Link resolver, QR images, consumer pages.

Invalid links raise :class:`backend.gs1.errors.DigitalLinkError` (``field`` names the part).
"""
