"""The counties' 20 free-text topics (slug and name in fi/sv/en) and the tones."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Tone(enum.Enum):
    """What a text says overall: praise, complaint, both, or neither."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    MIXED = "mixed"


@dataclass(frozen=True)
class Topic:
    """One topic of the county classification, with its name per language."""

    slug: str
    fi: str
    sv: str
    en: str

    def name(self, lang: str) -> str:
        """The topic's name in `lang` (fi, sv or en)."""
        return str(getattr(self, lang))


# The order of the county's published list.
TOPICS: tuple[Topic, ...] = (
    Topic("palvelumuodot", "Palvelumuodot ja tukitoiminnot", "Tjänsteformer och stödfunktioner",
          "Service types and support services"),
    Topic("henkilokunta", "Henkilökunta", "Personal", "Staff"),
    Topic("vastaanotto", "Vastaanottotoiminta", "Mottagningsverksamhet", "Appointments and visits"),
    Topic("ehdotus", "Ehdotus tai pyyntö", "Förslag eller önskemål", "Suggestion or request"),
    Topic("digipalvelut", "Digipalvelut", "Digitala tjänster", "Digital services"),
    Topic("laakarit", "Lääkärit", "Läkare", "Doctors"),
    Topic("kohtaaminen", "Kohtaaminen", "Bemötande", "How people were treated"),
    Topic("puhelinpalvelu", "Puhelinpalvelu", "Telefontjänst", "Telephone service"),
    Topic("viestinta", "Viestintä", "Kommunikation", "Communication"),
    Topic("hoitajat", "Hoitajat ja kätilöt", "Sjuksköterskor och barnmorskor",
          "Nurses and midwives"),
    Topic("tilat", "Tilat, välineet ja kalusteet", "Lokaler, utrustning och möbler",
          "Premises, equipment and furniture"),
    Topic("tutkimukset", "Tutkimuspalvelut", "Undersökningar", "Tests and imaging"),
    Topic("verkkosivu", "Verkkosivu", "Webbplats", "Website"),
    Topic("ajanvaraus", "Ajanvaraus ja -peruutus", "Tidsbokning och avbokning",
          "Booking and cancelling"),
    Topic("ratkaisuosaaminen", "Ratkaisuosaaminen", "Problemlösning och kunnande",
          "Competence and problem solving"),
    Topic("palveluun-paasy", "Palveluun pääsy", "Tillgång till vård", "Access to care"),
    Topic("laakitys", "Lääkitys", "Läkemedel", "Medication"),
    Topic("aikataulu", "Aikataulu", "Tidtabell och väntetid", "Schedule and waiting"),
    Topic("maksut", "Asiakasmaksut ja laskutus", "Avgifter och fakturering", "Fees and billing"),
    Topic("ohjeet", "Ohjeet", "Instruktioner", "Instructions"),
)
TOPIC_BY_SLUG: dict[str, Topic] = {topic.slug: topic for topic in TOPICS}
LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
# A generic word ("palvelu", "service") means the visit unless one of these is named beside it.
SERVICE_TOPICS: frozenset[str] = frozenset(
    {"palvelumuodot", "digipalvelut", "puhelinpalvelu", "tutkimukset", "laakitys", "verkkosivu"}
)
