"""GS1 Application Identifiers a Digital Link may carry, with their value syntax.

From the GS1 General Specifications (section 3) and the GS1 Digital Link
standard (primary keys and their key qualifiers). The table covers the primary
keys, their key qualifiers and the data attributes a product or logistic-unit
link carries; a numeric query parameter that is not an AI here is refused as an
unknown AI, as GS1's own parser does.

Syntax per AI: ``N`` digits / ``X`` GS1 AI encodable character set 82, with a
minimum and maximum length; ``check`` marks a GS1 mod-10 check digit, ``date``
a YYMMDD date (day 00 means the end of the month).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.gs1.gtin import gtin_check_digit

# GS1 General Specifications, figure 7.11-1: AI encodable character set 82.
CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)


@dataclass(frozen=True, slots=True)
class AI:
    code: str
    title: str
    charset: str  # "N" or "X"
    min_len: int
    max_len: int
    check: bool = False
    date: bool = False


def _n(code: str, title: str, length: int, **kw: bool) -> AI:
    return AI(code, title, "N", length, length, **kw)


def _nv(code: str, title: str, max_len: int) -> AI:
    return AI(code, title, "N", 1, max_len)


def _x(code: str, title: str, max_len: int) -> AI:
    return AI(code, title, "X", 1, max_len)


_TABLE: list[AI] = [
    _n("00", "SSCC", 18, check=True),
    _n("01", "GTIN", 14, check=True),
    _n("02", "CONTENT", 14, check=True),
    _x("10", "BATCH/LOT", 20),
    _n("11", "PROD DATE", 6, date=True),
    _n("12", "DUE DATE", 6, date=True),
    _n("13", "PACK DATE", 6, date=True),
    _n("15", "BEST BEFORE", 6, date=True),
    _n("16", "SELL BY", 6, date=True),
    _n("17", "USE BY", 6, date=True),
    _n("20", "VARIANT", 2),
    _x("21", "SERIAL", 20),
    _x("22", "CPV", 20),
    _x("235", "TPX", 28),
    _x("240", "ADDITIONAL ID", 30),
    _x("241", "CUST. PART No.", 30),
    _nv("242", "MTO VARIANT", 6),
    _x("243", "PCN", 20),
    _x("250", "SECONDARY SERIAL", 30),
    _x("251", "REF. TO SOURCE", 30),
    AI("253", "GDTI", "X", 13, 30),
    _x("254", "GLN EXTENSION COMPONENT", 20),
    AI("255", "GCN", "N", 13, 25),
    _nv("30", "VAR. COUNT", 8),
    _nv("37", "COUNT", 8),
    _x("400", "ORDER NUMBER", 30),
    _x("401", "GINC", 30),
    _n("402", "GSIN", 17, check=True),
    _x("403", "ROUTE", 30),
    _n("410", "SHIP TO LOC", 13, check=True),
    _n("411", "BILL TO", 13, check=True),
    _n("412", "PURCHASE FROM", 13, check=True),
    _n("413", "SHIP FOR LOC", 13, check=True),
    _n("414", "LOC No.", 13, check=True),
    _n("415", "PAY TO", 13, check=True),
    _n("416", "PROD/SERV LOC", 13, check=True),
    _n("417", "PARTY", 13, check=True),
    _x("420", "SHIP TO POST", 20),
    AI("421", "SHIP TO POST", "X", 4, 12),
    _n("422", "ORIGIN", 3),
    AI("423", "COUNTRY - INITIAL PROCESS", "N", 3, 15),
    _n("424", "COUNTRY - PROCESS", 3),
    AI("425", "COUNTRY - DISASSEMBLY", "N", 3, 15),
    _n("426", "COUNTRY - FULL PROCESS", 3),
    _x("427", "ORIGIN SUBDIVISION", 3),
    _x("7001", "NSN", 13),
    _x("7002", "MEAT CUT", 30),
    _n("7003", "EXPIRY TIME", 10),
    _nv("7004", "ACTIVE POTENCY", 4),
    _x("7005", "CATCH AREA", 12),
    _n("7006", "FIRST FREEZE DATE", 6, date=True),
    AI("7007", "HARVEST DATE", "N", 6, 12),
    _x("7008", "AQUATIC SPECIES", 3),
    _x("7009", "FISHING GEAR TYPE", 10),
    _x("7010", "PROD METHOD", 2),
    _x("7020", "REFURB LOT", 20),
    _x("7021", "FUNC STAT", 20),
    _x("7022", "REV STAT", 20),
    _x("7023", "GIAI - ASSEMBLY", 30),
    _x("8002", "CMT No.", 20),
    AI("8003", "GRAI", "X", 14, 30),
    _x("8004", "GIAI", 30),
    _n("8005", "PRICE PER UNIT", 6),
    _n("8006", "ITIP", 18),
    _n("8017", "GSRN - PROVIDER", 18, check=True),
    _n("8018", "GSRN - RECIPIENT", 18, check=True),
    _nv("8019", "SRIN", 10),
    _x("8020", "REF No.", 25),
    _x("8012", "VERSION", 20),
    _x("8200", "PRODUCT URL", 70),
    _x("90", "INTERNAL", 30),
    *(_x(str(code), "INTERNAL", 90) for code in range(91, 100)),
]
# Trade measures (AIs 310n-369n): six digits with the decimal point position in n.
_TABLE += [
    _n(f"{prefix}{n}", "MEASURE", 6)
    for prefix in (
        *(str(p) for p in range(310, 317)),
        *(str(p) for p in range(320, 338)),
        *(str(p) for p in range(340, 358)),
        *(str(p) for p in range(360, 370)),
    )
    for n in range(10)
]
# Amounts (390n-393n): up to 15 digits, or an ISO 4217 code followed by up to 15.
_TABLE += [_nv(f"390{n}", "AMOUNT", 15) for n in range(10)]
_TABLE += [_nv(f"392{n}", "PRICE", 15) for n in range(10)]
_TABLE += [AI(f"391{n}", "AMOUNT", "N", 4, 18) for n in range(10)]
_TABLE += [AI(f"393{n}", "PRICE", "N", 4, 18) for n in range(10)]

AIS: dict[str, AI] = {ai.code: ai for ai in _TABLE}

# Digital Link primary keys served here, and the key qualifier sequences each allows
# (GS1 Digital Link standard, section 4: for a GTIN, CPV → lot → serial, or a TPX).
PRIMARY_KEYS = frozenset({"00", "01", "253", "255", "401", "402", "414", "417", "8003",
                          "8004", "8006", "8017", "8018"})  # fmt: skip
KEY_QUALIFIERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "01": (("22", "10", "21"), ("235",)),
    "414": (("254",),),
    "8006": (("22", "10", "21"),),
    "8018": (("8019",),),
}


def value_problem(ai: AI, value: str) -> str | None:
    """What is wrong with ``value`` for ``ai`` (``None`` when it is valid)."""
    if value == "":
        return "is empty"
    if len(value) < ai.min_len or len(value) > ai.max_len:
        size = f"{ai.min_len}" if ai.min_len == ai.max_len else f"{ai.min_len}-{ai.max_len}"
        return f"must be {size} characters long, got {len(value)}"
    if ai.charset == "N":
        if not value.isascii() or not value.isdigit():
            return "must be digits only"
    else:
        bad = next((c for c in value if c not in CSET82), None)
        if bad is not None:
            return f"contains {bad!r}, outside GS1 AI encodable character set 82"
    if ai.check and int(value[-1]) != (expected := gtin_check_digit(value[:-1])):
        return f"has a wrong check digit (expected {expected})"
    if ai.date:
        month, day = int(value[2:4]), int(value[4:6])
        if not 1 <= month <= 12 or day > 31:
            return "is not a YYMMDD date"
    return None


def qualifier_sequence_allowed(key: str, qualifiers: list[str]) -> bool:
    """Whether ``qualifiers`` (in path order) is a valid key qualifier path for ``key``."""
    if not qualifiers:
        return True
    for sequence in KEY_QUALIFIERS.get(key, ()):
        position = -1
        for q in qualifiers:
            if q not in sequence or sequence.index(q) <= position:
                break
            position = sequence.index(q)
        else:
            return True
    return False
