"""Which customers an employee may serve, by region (pure).

An employee's ``region`` (staff directory) names the countries they serve: a region code from ``REGIONS``,
a two-letter country code, or ``global``. A customer's country is that of their most recent address
(``US`` when they have none). The Cedar guard ``guard.region`` compares the two; only break-glass crosses.
"""

from __future__ import annotations

EU = ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
      "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE")

#: Region code -> countries served. Codes compare case-insensitively; ``us-east`` is read as ``us``.
REGIONS: dict[str, tuple[str, ...]] = {
    "global": ("*",),
    "us": ("US", "PR", "GU", "VI", "AS", "MP"),
    "ca": ("CA",),
    "na": ("US", "PR", "GU", "VI", "AS", "MP", "CA", "MX"),
    "amer": ("US", "PR", "GU", "VI", "AS", "MP", "CA", "MX", "BR", "AR", "CL", "CO", "PE"),
    "eu": EU,
    "uk": ("GB",),
    "emea": (*EU, "GB", "NO", "CH", "IS", "AE", "SA", "ZA", "IL"),
    "apac": ("AU", "NZ", "JP", "KR", "SG", "IN", "HK", "TW", "MY", "PH", "TH", "ID", "VN"),
}


def countries_served(region: str | None) -> tuple[str, ...]:
    """The countries an employee of this region serves (``("*",)`` for all; empty when unknown)."""
    if not region:
        return ()
    text = region.strip().lower()
    for candidate in (text, text.replace("_", "-").split("-")[0].split(" ")[0]):
        if candidate in REGIONS:
            return REGIONS[candidate]
    if len(text) == 2 and text.isalpha():
        return (text.upper(),)
    return ()


def customer_country(country: str | None) -> str:
    """A customer's country code as the policies compare it."""
    return (country or "US").strip().upper()[:2] or "US"
