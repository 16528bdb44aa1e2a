"""Consumer QR layer: GS1 Digital Link resolver logic, QR images, consumer pages.

Errors raised by this package::

    QRError
     └── DigitalLinkError   (an invalid GS1 Digital Link URI; ``field`` names the part)
          └── GtinError     (an invalid GTIN: length, characters or check digit)
"""
