"""Purchase agreements settled from proofs of delivery (``DeliveryAgreement``)."""
