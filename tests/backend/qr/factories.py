"""A realistic product page view model, shared by the rendering and browser tests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from backend.gs1.digital_link import build_digital_link
from backend.qr.images import qr_data_uri
from backend.qr.view import (
    AttestationStatus,
    CalculationStep,
    CarbonStage,
    Certification,
    ChainProof,
    CustomsStatus,
    Material,
    Milestone,
    Place,
    ProductPage,
    TransportLeg,
    WaterStage,
)

BASE = "https://waymark.example"
D = Decimal


def product_page(**overrides: Any) -> ProductPage:
    link = build_digital_link("9506000134352", lot="LOT-2026/11", serial="SN0001")
    uri = link.uri(BASE)
    hcmc = Place("VN", region="Ho Chi Minh City", facility="Saigon Knitworks", city="Thu Duc")
    cat_lai = Place("VN", city="Ho Chi Minh City", facility="Cat Lai port")
    la = Place("US", region="California", city="Los Angeles", facility="Port of Los Angeles")
    page = ProductPage(
        product_name="Merino crew sweater",
        brand="Northwind Apparel",
        gtin=link.gtin,
        lot=link.lot,
        serial=link.serial,
        description="Fine-gauge knit, 80 % merino wool.",
        digital_link=uri,
        proof_bundle_url=f"{link.path}/proof.json",
        origin=hcmc,
        materials=(
            Material("Merino wool", D("80"), origin=Place("AU", region="New South Wales")),
            Material("Recycled polyamide", D("20"), recycled_percent=D("100")),
        ),
        carbon=(
            CarbonStage(
                "Materials",
                D("6.84"),
                steps=(
                    CalculationStep(
                        "Merino wool fibre",
                        D("0.36"),
                        "kg",
                        D("17.5"),
                        "kg CO2e/kg",
                        "IWTO LCA 2022, table 4",
                        D("6.30"),
                    ),
                    CalculationStep(
                        "Recycled polyamide yarn",
                        D("0.09"),
                        "kg",
                        D("6.0"),
                        "kg CO2e/kg",
                        "ecoinvent 3.10, nylon 6 recycled",
                        D("0.54"),
                    ),
                ),
            ),
            CarbonStage(
                "Manufacturing",
                D("1.05"),
                steps=(
                    CalculationStep(
                        "Knitting and finishing electricity",
                        D("2.5"),
                        "kWh",
                        D("0.42"),
                        "kg CO2e/kWh",
                        "IEA 2024, Viet Nam grid",
                        D("1.05"),
                    ),
                ),
            ),
            CarbonStage(
                "Transport",
                D("0.2115"),
                legs=(
                    TransportLeg(
                        "Sea freight",
                        cat_lai,
                        la,
                        D("13100"),
                        D("0.001"),
                        D("0.0161"),
                        "GLEC Framework v3, container ship",
                        D("0.2109"),
                    ),
                    TransportLeg(
                        "Truck",
                        la,
                        Place("US", region="Nevada", city="Reno"),
                        D("760"),
                        D("0.001"),
                        D("0.0008"),
                        "GLEC Framework v3, articulated truck",
                        D("0.0006"),
                    ),
                ),
            ),
        ),
        water=(
            WaterStage("Wool scouring", D("14.2")),
            WaterStage("Dyeing", D("21.5"), note="Closed-loop dye house, 60 % reuse"),
        ),
        certifications=(
            Certification(
                "Responsible Wool Standard",
                "Control Union",
                AttestationStatus.VALID,
                valid_until=date(2027, 6, 30),
                reference="CU-RWS-88412",
            ),
            Certification(
                "OEKO-TEX Standard 100",
                "Hohenstein",
                AttestationStatus.EXPIRED,
                valid_until=date(2025, 12, 31),
            ),
            Certification("Fair Wear audit", "Fair Wear Foundation", AttestationStatus.REVOKED),
        ),
        journey=(
            Milestone(
                "Picked up", hcmc, datetime(2026, 10, 2, 8, 30, tzinfo=UTC), "Saigon Knitworks"
            ),
            Milestone(
                "Export cleared",
                cat_lai,
                datetime(2026, 10, 3, 14, 0, tzinfo=UTC),
                "Viet Nam Customs broker",
                customs=CustomsStatus.CLEARED,
            ),
            Milestone(
                "Departed",
                cat_lai,
                datetime(2026, 10, 4, 22, 15, tzinfo=UTC),
                "Oceanic Lines",
                weight_discrepancy="declared 412 kg, weighed 431 kg",
            ),
            Milestone(
                "Held by customs",
                la,
                datetime(2026, 10, 21, 9, 0, tzinfo=UTC),
                "US Customs broker",
                customs=CustomsStatus.HELD,
                late=True,
                exception="documents requested",
            ),
            Milestone(
                "Released by customs",
                la,
                datetime(2026, 10, 23, 16, 40, tzinfo=UTC),
                "US Customs broker",
                customs=CustomsStatus.RELEASED,
            ),
        ),
        proof=ChainProof(
            chain_id=31337,
            chain_name="Waymark devnet",
            contract="0x5FbDB2315678afecb367f032d93F642f64180aa3",
            transaction="0x" + "9c" * 32,
            block_number=1842,
            merkle_root="0x" + "4e1f" * 16,
            signers=(
                "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            ),
            anchored_at=datetime(2026, 10, 23, 17, 0, tzinfo=UTC),
        ),
        qr_image_src=qr_data_uri(uri),
    )
    return dataclasses.replace(page, **overrides)
