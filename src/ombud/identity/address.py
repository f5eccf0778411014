"""Postal address normalisation (US first): street types, directionals, unit forms, ZIP+4, state names.

Common street lines ("123 N Main St Apt 4B") are read by a fast tokenizer; anything it is unsure of
(PO boxes, pre-typed streets such as "Avenue of the Americas", highways, missing house numbers) goes to
`usaddress`, a trained parser. Both produce the same canonical form, built with the USPS Publication 28
abbreviations below, so "123 North Main Street, Apartment 4-B" and "123 n main st #4b" compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import usaddress

from ombud.identity.normalize import fold

#: Street suffixes (USPS Pub. 28 C1, the common ones): every spelling -> the standard abbreviation.
STREET_TYPES: dict[str, str] = {}
for _abbr, _forms in {
    "aly": "alley ally", "anx": "annex anex", "arc": "arcade", "ave": "avenue av aven avenu avn avnue",
    "byu": "bayou", "bch": "beach", "bnd": "bend", "blf": "bluff", "blvd": "boulevard boul boulv",
    "br": "branch brnch", "brg": "bridge", "brk": "brook", "byp": "bypass bypa byps", "cp": "camp",
    "cyn": "canyon", "cpe": "cape", "cswy": "causeway", "ctr": "center centre cent cntr", "cir": "circle circ crcl",
    "clf": "cliff", "clb": "club", "cmn": "common", "cor": "corner", "crse": "course", "ct": "court crt",
    "cv": "cove", "crk": "creek", "cres": "crescent crsnt", "xing": "crossing crssng", "dl": "dale",
    "dm": "dam", "dr": "drive drv driv", "est": "estate", "ests": "estates", "expy": "expressway exp expr",
    "ext": "extension extn", "fls": "falls", "fry": "ferry", "fld": "field", "flds": "fields", "flt": "flat",
    "frd": "ford", "frst": "forest", "frg": "forge", "frk": "fork", "ft": "fort frt", "fwy": "freeway",
    "gdn": "garden", "gdns": "gardens", "gtwy": "gateway", "gln": "glen", "grn": "green", "grv": "grove",
    "hbr": "harbor harbour", "hvn": "haven", "hts": "heights ht", "hwy": "highway hiway", "hl": "hill",
    "hls": "hills", "holw": "hollow", "inlt": "inlet", "is": "island", "isle": "isles", "jct": "junction",
    "ky": "key", "knl": "knoll", "lk": "lake", "lks": "lakes", "lndg": "landing", "ln": "lane la",
    "lgt": "light", "loop": "loops", "mall": "", "mnr": "manor", "mdw": "meadow", "mdws": "meadows",
    "ml": "mill", "mls": "mills", "msn": "mission", "mt": "mount", "mtn": "mountain", "nck": "neck",
    "orch": "orchard", "oval": "ovl", "park": "parks prk", "pkwy": "parkway parkwy pkway pky", "pass": "",
    "path": "paths", "pike": "pikes", "pne": "pine", "pl": "place", "pln": "plain", "plz": "plaza plza",
    "pt": "point", "prt": "port", "pr": "prairie", "radl": "radial", "rnch": "ranch", "rpd": "rapid",
    "rst": "rest", "rdg": "ridge", "riv": "river", "rd": "road", "rds": "roads", "rte": "route",
    "row": "", "run": "", "shl": "shoal", "shr": "shore", "shrs": "shores", "spg": "spring", "spgs": "springs",
    "sq": "square sqr", "sta": "station", "stra": "stravenue", "strm": "stream", "st": "street str strt",
    "sts": "streets", "smt": "summit", "ter": "terrace terr", "trce": "trace", "trak": "track", "trl": "trail",
    "tunl": "tunnel", "tpke": "turnpike", "un": "union", "vly": "valley", "via": "viaduct", "vw": "view",
    "vlg": "village", "vis": "vista", "walk": "walks", "wall": "", "way": "wy", "wl": "well", "wls": "wells",
}.items():
    STREET_TYPES[_abbr] = _abbr
    for _form in _forms.split():
        STREET_TYPES[_form] = _abbr

#: Directionals.
DIRECTIONALS: dict[str, str] = {
    "n": "n", "north": "n", "s": "s", "south": "s", "e": "e", "east": "e", "w": "w", "west": "w",
    "ne": "ne", "northeast": "ne", "nw": "nw", "northwest": "nw", "se": "se", "southeast": "se",
    "sw": "sw", "southwest": "sw",
}

#: Unit designators that only say "a dwelling unit": dropped, so "Apt 4B", "#4B", "Unit 4B", "Ste 4B" agree.
DWELLING_UNITS = frozenset(["apt", "apartment", "unit", "ste", "suite", "no", "num", "number", "rm", "room"])
#: Designators that say something else about the unit: kept, abbreviated.
OTHER_UNITS: dict[str, str] = {
    "fl": "fl", "floor": "fl", "flr": "fl", "bldg": "bldg", "building": "bldg", "lot": "lot", "trlr": "trlr",
    "trailer": "trlr", "spc": "spc", "space": "spc", "dept": "dept", "department": "dept", "ph": "ph",
    "penthouse": "ph", "bsmt": "bsmt", "basement": "bsmt", "rear": "rear", "frnt": "frnt", "front": "frnt",
    "lowr": "lowr", "lower": "lowr", "uppr": "uppr", "upper": "uppr", "pier": "pier", "slip": "slip",
    "hngr": "hngr", "hangar": "hngr", "ofc": "ofc", "office": "ofc",
}
#: Spelled ordinals in street names ("Fifth Avenue" = "5th Ave").
ORDINALS = {
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th", "sixth": "6th",
    "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th", "eleventh": "11th", "twelfth": "12th",
}
#: City-name word forms.
CITY_WORDS = {"saint": "st", "ste": "st", "sainte": "st", "fort": "ft", "mount": "mt", "mt": "mt", "ft": "ft"}

US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR", "guam": "GU",
    "american samoa": "AS", "virgin islands": "VI", "northern mariana islands": "MP",
    "armed forces americas": "AA", "armed forces europe": "AE", "armed forces pacific": "AP",
}
_STATE_CODES = frozenset(US_STATES.values())

_HOUSE_NUMBER = re.compile(r"^\d+[a-z]?$|^\d+-\d+[a-z]?$")
_UNIT_ID = re.compile(r"^[a-z0-9]+$")


@dataclass(frozen=True, slots=True)
class StreetLine:
    """The street part of an address: house number, canonical street ("n main st"), its bare name, unit."""

    number: str
    street: str
    name: str
    unit: str


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """A whole normalised address."""

    number: str
    street: str
    name: str
    unit: str
    city: str
    region: str
    zip5: str
    country: str

    @property
    def key(self) -> str:
        """House number + street + postal code: the building, whatever unit."""
        return f"{self.number}|{self.street}|{self.zip5}"


def _house_number(text: str) -> str:
    """House numbers without leading zeros ("0487" and "487" are one house)."""
    return text.lstrip("0") or text


def _canonical_unit(words: list[str]) -> str:
    """"apt 4 b" -> "4b"; "fl 3" -> "fl3"; "#" forms are already split off."""
    words = [w for w in words if w not in ("#",)]
    if words and words[0] in DWELLING_UNITS:
        words = words[1:]
    elif words and words[0] in OTHER_UNITS:
        words = [OTHER_UNITS[words[0]], *words[1:]]
    return "".join(words)


def _street(pre_dir: str, name_words: list[str], street_type: str, post_dir: str) -> tuple[str, str]:
    name_words = [ORDINALS.get(w, CITY_WORDS.get(w, w)) for w in name_words]
    name = " ".join(name_words)
    parts = [p for p in (pre_dir, name, street_type, post_dir) if p]
    return " ".join(parts), name


def _fast_street(tokens: list[str]) -> StreetLine | None:
    """Read "NUMBER [DIR] NAME... TYPE [DIR] [UNIT]"; None when the line has any other shape."""
    if len(tokens) < 3 or not _HOUSE_NUMBER.match(tokens[0]):
        return None
    number, rest = _house_number(tokens[0]), tokens[1:]
    unit_words: list[str] = []
    for index, word in enumerate(rest):
        if word == "#" or word in DWELLING_UNITS or word in OTHER_UNITS:
            if index == 0:
                return None
            rest, unit_words = rest[:index], rest[index:]
            break
    if (unit_words and (unit_words[0] == "#" or unit_words[0] in DWELLING_UNITS)
            and (len(unit_words) < 2 or not all(_UNIT_ID.match(w) for w in unit_words[1:]))):
        return None
    post_dir = ""
    if len(rest) >= 3 and rest[-1] in DIRECTIONALS and rest[-2] in STREET_TYPES:
        post_dir = DIRECTIONALS[rest[-1]]
        rest = rest[:-1]
    if len(rest) < 2 or rest[-1] not in STREET_TYPES:
        return None
    street_type = STREET_TYPES[rest[-1]]
    name_words = rest[:-1]
    pre_dir = ""
    if len(name_words) >= 2 and name_words[0] in DIRECTIONALS:
        pre_dir = DIRECTIONALS[name_words[0]]
        name_words = name_words[1:]
    street, name = _street(pre_dir, name_words, street_type, post_dir)
    return StreetLine(number=number, street=street, name=name, unit=_canonical_unit(unit_words))


def _tokens(text: str) -> list[str]:
    """Folded words, with "#" kept as a word of its own (it marks a unit)."""
    if "#" not in text:
        return fold(text).split()
    out: list[str] = []
    for part in re.split(r"(#)", text):
        out.extend(["#"] if part == "#" else fold(part).split())
    return out


def _usaddress_street(line: str) -> StreetLine:
    try:
        tagged, _kind = usaddress.tag(line)
    except usaddress.RepeatedLabelError as exc:
        tagged = {}
        for value, label in exc.parsed_string:
            tagged[label] = f"{tagged[label]} {value}" if label in tagged else value

    def words(*labels: str) -> list[str]:
        return [w for label in labels for w in fold(tagged.get(label, "")).split()]

    if "USPSBoxID" in tagged:
        return StreetLine(number="", street="po box " + "".join(words("USPSBoxID")), name="po box", unit="")
    number = _house_number("".join(words("AddressNumberPrefix", "AddressNumber", "AddressNumberSuffix")))
    pre_dir = DIRECTIONALS.get("".join(words("StreetNamePreDirectional")), "")
    post_dir = DIRECTIONALS.get("".join(words("StreetNamePostDirectional")), "")
    pre_type = " ".join(STREET_TYPES.get(w, w) for w in words("StreetNamePreType"))
    post_type = " ".join(STREET_TYPES.get(w, w) for w in words("StreetNamePostType"))
    name_words = words("StreetNamePreModifier", "StreetName")
    if pre_type:
        name_words = [pre_type, *name_words]
    street, name = _street(pre_dir, name_words, post_type, post_dir)
    unit_words = words("OccupancyType", "OccupancyIdentifier", "SubaddressType", "SubaddressIdentifier")
    unit_words = [w for w in unit_words if w != "#"]
    if not street:  # nothing recognisable: keep the folded line so equal lines still agree
        street = name = " ".join(w for w in fold(line).split() if w != number)
    return StreetLine(number=number, street=street, name=name, unit=_canonical_unit(unit_words))


@lru_cache(maxsize=262144)
def normalize_street(line1: str, line2: str = "") -> StreetLine:
    """The canonical street line of line1 (and line2, which usually holds the unit)."""
    tokens = _tokens(line1)
    parsed = _fast_street(tokens)
    if parsed is None:
        parsed = _usaddress_street(line1)
    if line2 and line2.strip():
        unit_tokens = _tokens(line2)
        if unit_tokens and (unit_tokens[0] in ("#", *DWELLING_UNITS, *OTHER_UNITS) or len(unit_tokens) == 1):
            unit = _canonical_unit(unit_tokens)
        else:  # e.g. "c/o Jane" or a building name: keep it, folded, as the unit
            unit = "".join(unit_tokens)
        if unit and not parsed.unit:
            parsed = StreetLine(parsed.number, parsed.street, parsed.name, unit)
    return parsed


@lru_cache(maxsize=65536)
def normalize_city(city: str | None) -> str:
    """Folded city with "Saint"/"Fort"/"Mount" abbreviated."""
    return " ".join(CITY_WORDS.get(w, w) for w in fold(city or "").split())


@lru_cache(maxsize=65536)
def normalize_region(region: str | None, country: str = "US") -> str:
    """Two-letter state code for US states written out; other regions folded and upper-cased."""
    folded = fold(region or "")
    if country == "US":
        if folded.upper() in _STATE_CODES:
            return folded.upper()
        return US_STATES.get(folded, folded.upper())
    return folded.upper()


@lru_cache(maxsize=65536)
def normalize_postal_code(code: str | None, country: str = "US") -> str:
    """ZIP5 for US codes (ZIP+4 and 9-digit forms cut to five); other countries upper-cased, no spaces."""
    text = re.sub(r"[^0-9A-Za-z]", "", code or "").upper()
    if country == "US":
        digits = re.sub(r"\D", "", text)
        if len(digits) in (9, 5):
            return digits[:5]
        if len(digits) in (3, 4):  # a leading zero lost in a spreadsheet
            return digits.zfill(5)
        return digits
    return text


@lru_cache(maxsize=65536)
def normalize_country(country: str | None) -> str:
    """ISO alpha-2, default US (common spellings of the United States accepted)."""
    folded = fold(country or "")
    if folded in ("", "us", "usa", "united states", "united states of america", "u s", "u s a"):
        return "US"
    return folded.upper()[:2] if len(folded) == 2 else folded.upper()


@lru_cache(maxsize=262144)
def normalize_address(
    line1: str | None,
    line2: str | None = None,
    city: str | None = None,
    region: str | None = None,
    postal_code: str | None = None,
    country: str | None = None,
) -> PostalAddress | None:
    """A normalised postal address, or None when there is no street line."""
    if not line1 or not fold(line1):
        return None
    country_code = normalize_country(country)
    street = normalize_street(line1.strip(), (line2 or "").strip())
    return PostalAddress(
        number=street.number,
        street=street.street,
        name=street.name,
        unit=street.unit,
        city=normalize_city(city),
        region=normalize_region(region, country_code),
        zip5=normalize_postal_code(postal_code, country_code),
        country=country_code,
    )
