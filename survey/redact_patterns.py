"""The shapes of personal data in free text, for survey.redact: each finder returns spans.

Each finder looks at the text as people write it: separators of every kind (the en dash
a phone keyboard puts for a hyphen, dots, slashes), no separators, upper or lower case,
and data glued to the words around it ("0401234567kiitos", "hetu131052-308T").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from survey.redact_names import is_municipality

Span = tuple[int, int]

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"

# --- e-mail ------------------------------------------------------------------------

# The @ and its spelled-out forms; an address is read outwards from one, so that a long
# text without any costs one scan (a pattern starting anywhere would be quadratic).
_AT = re.compile(r"\s?(?:@|\((?:at|a)\)|\[(?:at|a)\]|\{at\})\s?", re.IGNORECASE)
_LOCAL = re.compile(r"[\w.%+\-]{0,64}$")
_DOMAIN = re.compile(r"\w[\w\-]{0,62}(?:\.[\w\-]{1,63}){0,6}\.[a-z]{2,12}(?![\w\-])",
                     re.IGNORECASE)
# 'matti.m at example dot fi', 'matti at example.fi': only with a known top-level domain.
_TLDS = r"(?:fi|se|com|net|org|eu|info|io|me|uk|de|ee|no|dk|nu|biz|co|ax)"
_AT_WORD = re.compile(r"\s(?:at|ät)\s", re.IGNORECASE)
_DOMAIN_WORDS = re.compile(
    rf"\w[\w\-]{{0,62}}(?:(?:\.|\s+(?:dot|piste|punkt)\s+)[\w\-]{{1,63}}){{0,4}}"
    rf"(?:\.|\s+(?:dot|piste|punkt)\s+){_TLDS}\b", re.IGNORECASE)
_LOCAL_WORD = re.compile(r"[\w.+\-]{0,63}\w$")


def find_emails(text: str) -> list[Span]:
    """E-mail addresses, also written with (at), [at] or ' at … dot '."""
    spans = []
    for pattern, local, domain in ((_AT, _LOCAL, _DOMAIN), (_AT_WORD, _LOCAL_WORD, _DOMAIN_WORDS)):
        for at in pattern.finditer(text):
            left = local.search(text, max(0, at.start() - 64), at.start())
            right = domain.match(text, at.end())
            if left is None or right is None or left.start() == at.start():
                continue
            start = left.start()
            while start < at.start() and not text[start].isalnum():
                start += 1  # an address does not start with a dot or a dash
            if start < at.start():
                spans.append((start, right.end()))
    return spans


# --- IBAN ----------------------------------------------------------------------------

# Lengths of the IBAN of each country (ISO 13616 registry).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_IBAN_START = re.compile(
    r"(?:(?<![A-Za-z0-9])([A-Za-z]{2})|(?<=[a-zäöå:])([A-Z]{2}))[ ]?(\d{2})(?=[ \-]?[A-Za-z0-9])")


def find_ibans(text: str) -> list[Span]:
    """IBANs of any country, compact or in groups, any case, typos in the digits or not."""
    spans = []
    for m in _IBAN_START.finditer(text):
        length = _IBAN_LENGTHS.get((m.group(1) or m.group(2)).upper())
        if length is None:
            continue
        end = _iban_end(text, m.end(), length - 4)
        if end is not None:
            spans.append((m.start(), end))
    return spans


def _iban_end(text: str, at: int, want: int) -> int | None:
    """End of `want` account characters from `at` (single spaces or dashes between)."""
    got = digits = 0
    i = at
    while got < want and i < len(text):
        c = text[i]
        if c.isascii() and c.isalnum():
            got += 1
            digits += c.isdigit()
            i += 1
        elif c in " -" and i + 1 < len(text) and text[i + 1].isascii() \
                and text[i + 1].isalnum() and text[i - 1] not in " -":
            i += 1
        else:
            break
    # A short IBAN typed one digit short is still one; a word is not an account.
    if got >= want - 1 and digits >= min(8, want - 2):
        return i
    return None


# --- henkilötunnus ----------------------------------------------------------------

_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU = re.compile(
    rf"(?<!\d)(\d{{2}})(\d{{2}})(\d{{2}})(\s?[{_DASHES}+A-FU-Ya-fu-y]\s?|\s|)(\d{{3}})"
    r"([0-9A-Ya-y])(?!\d)")


def hetu_is_valid(code: str) -> bool:
    """True when `code` (DDMMYY, century sign, NNN, check) has the right check character."""
    m = _HETU.fullmatch(code)
    return m is not None and _check_ok(m)


def _check_ok(m: re.Match[str]) -> bool:
    number = int(m.group(1) + m.group(2) + m.group(3) + m.group(5))
    return _HETU_CHECK[number % 31] == m.group(6).upper()


def find_hetus(text: str) -> list[Span]:
    """Identity codes: date, century sign (any dash, + or a letter), space or nothing."""
    spans = []
    for m in _HETU.finditer(text):
        day, month = int(m.group(1)), int(m.group(2))
        if not (1 <= day <= 31 and 1 <= month <= 12):
            continue
        sign = m.group(4).strip()
        if sign or m.group(6).isalpha():
            spans.append(m.span())  # a century sign or a check letter: a hetu's shape
        elif not m.group(1).startswith("0") and int(m.group(5)) >= 2:
            # Digits only: a phone number would start with 0, and individual numbers
            # start from 002.
            spans.append(m.span())
    return spans


# --- phone numbers ------------------------------------------------------------------

_SEP = rf"[ .\/(){_DASHES}]"
_RUN = re.compile(rf"(?<!\d)(?:\+\s?|\(\+)?\d+(?:{_SEP}{{1,3}}\d+)*")
_GROUP = re.compile(r"\d+")
# Service numbers (free, paid, companies' national numbers): no one's own number.
_SERVICE = {"0800", "0600", "0700", "0200", "0100", "0300"}
# A word right before a number that says it is someone's phone number.
_PHONE_CUE = re.compile(
    r"(?<![^\W\d_])(?:puh|puhelin|puhelinnumero|puhelinnro|numeroni|numero|nro|tel|"
    r"telefon|tfn|gsm|kännykkä|känny|mobiili|soita|soittakaa|ring|call|phone|mobile)"
    r"[.:]?\s{0,3}(?:on\s|är\s|is\s)?\s{0,2}$", re.IGNORECASE)
_DATEISH = re.compile(r"(?<!\d)\d{1,2}[.:/]\d{1,2}(?:[.:/](?:\d{4}|\d{2}))?(?!\d)")


def find_phones(text: str) -> list[Span]:
    """Phone numbers: national (0…), +358/00358/358 and other international forms, and
    after a word that says a number follows ('puh 401234567', its 0 forgotten)."""
    spans: list[Span] = []
    for run in _RUN.finditer(text):
        groups = [(g.start() + run.start(), g.end() + run.start())
                  for g in _GROUP.finditer(run.group())]
        found = list(_phones_in(text, groups, run.start()))
        if not found and _PHONE_CUE.search(text, max(0, run.start() - 20), run.start()):
            digits = "".join(text[s:e] for s, e in groups)
            years = all(re.fullmatch(r"(?:19|20)\d\d", text[s:e]) for s, e in groups)
            if 7 <= len(digits) <= 13 and not _DATEISH.search(run.group()) and not years \
                    and digits[:4] not in _SERVICE:
                found = [run.span()]
        spans.extend(found)
    return spans


def _phones_in(text: str, groups: list[Span], run_start: int) -> Iterator[Span]:
    i = 0
    while i < len(groups):
        best = None
        start = groups[i][0]
        plus = _plus_before(text, start, run_start)
        # A number starts with +, 0 or 358: other groups cannot start one (cheap on '1 1 1').
        lead = text[start] == "0" or plus is not None or text.startswith("358", start)
        digits = ""
        for j in range(i, len(groups) if lead else i):
            digits += text[groups[j][0]:groups[j][1]]
            if len(digits) > 16:
                break
            if _is_phone(text[start:groups[j][1]], digits, plus):
                best = j
        if best is None:
            i += 1
            continue
        start = groups[i][0]
        plus_at = _plus_before(text, start, run_start)
        if plus_at is None and start > 0 and text[start - 1] == "(":
            plus_at = start - 1  # "(09) 123 4567"
        yield (plus_at if plus_at is not None else start, groups[best][1])
        i = best + 1


def _plus_before(text: str, start: int, run_start: int) -> int | None:
    """Where the '+' (or '(+') of a number starting at `start` is, if it has one."""
    k = start - 1
    while k >= run_start and text[k] in " (":
        k -= 1
    return k if k >= run_start and text[k] == "+" else None


def _is_phone(written: str, digits: str, plus: int | None) -> bool:
    if plus is not None:
        if digits.startswith("358"):
            rest = digits[3:].removeprefix("0")
            return 6 <= len(rest) <= 10
        return 8 <= len(digits) <= 15
    if digits.startswith("00"):
        if digits.startswith("00358"):
            return 6 <= len(digits[5:].removeprefix("0")) <= 10
        return 10 <= len(digits) <= 17
    if digits.startswith("358") and written[:3] == "358":
        return 11 <= len(digits) <= 13
    if not digits.startswith("0") or digits[1:2] == "0" or digits[:4] in _SERVICE:
        return False
    if not 7 <= len(digits) <= 11:
        return False
    if _DATEISH.search(written):
        return False  # 01.05.2024, 08.00-16.00: a date or times
    groups = re.findall(r"\d+", written)
    return not (all(len(g) <= 2 for g in groups) and len(groups) <= 5)


# --- addresses ----------------------------------------------------------------------

_STREET_END = (
    r"(?:tie|tiellä|tien|tieltä|tielle|katu|kadulla|kadun|kadulta|kadulle|kuja|kujalla|"
    r"kujan|kujalta|kujalle|polku|polulla|polun|väylä|väylällä|väylän|rinne|rinteellä|"
    r"rinteen|tanhua|tanhualla|kaari|kaarella|kaaren|raitti|raitilla|puistikko|aukio|"
    r"aukiolla|bulevardi|bulevardilla|ranta|rannassa|rannan|piha|pihalla|kierros|"
    r"mäki|mäellä|mäen|tori|torilla|torin|penger|kaarre|kaarteella|lenkki|portti|kulma|"
    r"vägen|väg|gatan|gata|gränd|gränden|stigen|backen|allén|torget|esplanadi|esplanaden|"
    r"silta|sillan|reitti|laituri|valli|porras|portaat|kenttä|lehto|niitty|vainio|harju|"
    r"puisto|plan|parken|udden|gården|"
    r"kajen|stranden|road|street|avenue|lane)")
# Words that may stand before a street's name: Vanha Porvoontie, Norra Esplanaden.
_STREET_PREFIX = (r"(?:Vanha|Uusi|Iso|Pieni|Pohjoinen|Eteläinen|Itäinen|Läntinen|Ylä|Ala|"
                  r"Gamla|Nya|Stora|Lilla|Norra|Södra|Östra|Västra|Ensimmäinen|Toinen|"
                  r"Kolmas|Neljäs|Viides)\s")
_HOUSE = (r"\d{1,4}(?:[a-zA-Z](?:\d{1,3})?(?![a-zA-Z]))?(?:\s?[" + _DASHES + r"]\s?\d{1,4})?"
          r"(?:(?:\s?,\s?|\s)(?:(?:as\.?|bst\.?|lgh\.?|asunto|rappu)\s?\d{1,3}"
          r"|[A-Za-z](?:\s?\d{1,3})?)(?!\w))?")
_STREET = re.compile(
    rf"(?<![\w])(?:(?-i:[A-ZÅÄÖ][\wåäö]+ ){{1,2}}(?:katu|tie|linja|gatan|vägen|road|street|"
    rf"avenue)|(?-i:{_STREET_PREFIX})?[\wåäöÅÄÖ]{{2,}}?{_STREET_END})"
    rf"(?:\s+{_HOUSE}|(?=\s*,?\s*(?:FI-)?\d{{5}}\b))", re.IGNORECASE)
_POSTCODE = re.compile(
    r"(?<![\w])(?:FI-?\s?)?\d{5}(?:\s+|,\s*)([A-ZÅÄÖ][a-zåäö]+(?:\s[A-ZÅÄÖ][a-zåäö]+)?"
    r"|[A-ZÅÄÖ]{3,}|[a-zåäö]+)(?!\w)|(?<![\w])(?:PL|PB|Box)\s?\d{1,4},?\s+\d{5}\s+\w+")
_LONE_POSTCODE = re.compile(r",?\s?(?:FI-?)?\d{5}(?!\d)")
# A postcode named as one, with no town after it ("postinumero 28100", "postnummer: 65100").
_NAMED_POSTCODE = re.compile(
    r"(?<!\w)(?:postinumero\w*|postinro|postnro|postnummer\w*|post ?code|postal code|zip code"
    r"|zip)(?:\s+(?:on|oli|is|was|är|var))?\s*[:=]?\s*((?:FI-?\s?)?\d{5})(?!\d)",
    re.IGNORECASE)
_UNIT_AFTER = re.compile(
    r"\s*(?:min|minuutt|tunt|tuntia|h\b|pv|päiv|viik|kk|kuukau|vuo|v\b|€|e\b|euro|km|m\b|"
    r"kertaa|krt|%|dagar|timm|veck|år|minut|hours?|days?|weeks?|mins?|euros?)", re.IGNORECASE)


def find_addresses(text: str) -> list[Span]:
    """Street addresses with a house number (stair, flat), postcodes with their town."""
    spans: list[Span] = []
    for m in _STREET.finditer(text):
        if _UNIT_AFTER.match(text, m.end()):
            continue  # "hoitopolku 2 viikkoa": a duration, not a house
        spans.append(_trim(text, m.span()))
    spans += [m.span() for m in _POSTCODE.finditer(text)
              if not (m.group(1) or "x").islower() or is_municipality(m.group(1))]
    spans += [m.span(1) for m in _NAMED_POSTCODE.finditer(text)]
    return _merge(text, spans)


def _trim(text: str, span: Span) -> Span:
    start, end = span
    while end > start and text[end - 1] in " ,":
        end -= 1
    return start, end


def _merge(text: str, spans: list[Span]) -> list[Span]:
    """Street and postcode of one address as one span (a postcode without its town too)."""
    spans.sort()
    out: list[Span] = []
    for s, e in spans:
        if out and (s <= out[-1][1] or re.fullmatch(r"[\s,]*", text[out[-1][1]:s])):
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    for k, (s, e) in enumerate(out):
        lone = _LONE_POSTCODE.match(text, e)
        if lone:
            out[k] = (s, lone.end())
    return out
