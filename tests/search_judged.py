"""A judged set for search: short news articles in German, English and French, and queries
as readers type them (other spellings, transliterated names, parts of compounds, missing
accents, plain words), each with graded relevance 0-3.

Grades follow from how the corpus is built, so they need no second opinion: an article of a
story in the query's language (or any, without one) is 3; another article of the same story
2; an unrelated article that mentions the story's subject in passing 1; everything else 0.
Every story has filler beside it: articles on other subjects that share its common words.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from cms.platform.db import Connection
from consumers.search import api, store, words
from consumers.search import query as search_query
from consumers.search.additions import additions_of
from consumers.search.api import SearchQuery
from consumers.search.compounds import Splitter
from consumers.search.document import Document, config_for
from consumers.search.settings import SearchSettings


@dataclass(frozen=True)
class Text:
    language: str
    title: str
    lead: str
    body: str = ""


@dataclass(frozen=True)
class Story:
    key: str
    texts: tuple[Text, ...]  # the first in each language is the story's main article
    queries: tuple[tuple[str, str | None], ...]  # (q, language)
    mentions: Mapping[str, str] = field(default_factory=dict)  # language → a passing sentence


def _t(language: str, title: str, lead: str, body: str = "") -> Text:
    return Text(language, title, lead, body)


STORIES: tuple[Story, ...] = (
    Story(
        "luxury",
        (
            _t(
                "de",
                "EU verbietet Export von Luxusgütern nach Russland",
                "Die Europäische Union untersagt die Ausfuhr von Luxusgütern im Wert von mehr als 300 Euro.",
                "Betroffen sind Uhren, Schmuck und teure Autos.",
            ),
            _t(
                "en",
                "EU bans exports of luxury goods to Russia",
                "Watches, jewellery and cars worth more than 300 euros may no longer be sold to Russians.",
            ),
            _t(
                "fr",
                "L'UE interdit l'exportation de produits de luxe vers la Russie",
                "Montres, bijoux et voitures de plus de 300 euros sont concernés.",
            ),
        ),
        (
            ("Luxusgueter", None),
            ("Luxusgüter", "de"),
            ("luxusguetern russland", "de"),
            ("luxury goods", None),
            ("produits de luxe", "fr"),
            ("Luxusgueter Export", None),
        ),
        {
            "de": "Bereits im März hatte die EU Luxusgüter auf die Liste gesetzt.",
            "en": "Luxury goods were added to the list in March.",
        },
    ),
    Story(
        "azovstal",
        (
            _t(
                "de",
                "Verteidiger des Azovstal-Stahlwerks ergeben sich",
                "In Mariupol haben die letzten Kämpfer das Werk verlassen.",
                "Das Stahlwerk war wochenlang belagert worden.",
            ),
            _t(
                "de",
                "Was aus den Kämpfern von Azovstal wird",
                "Die Männer aus dem Stahlwerks-Keller sind in russischer Gefangenschaft.",
            ),
            _t(
                "en",
                "Azovstal steelworks defenders surrender",
                "The last fighters left the plant in Mariupol after weeks of siege.",
            ),
        ),
        (
            ("Stahlwerk", "de"),
            ("Stahlwerk Mariupol", None),
            ("Azovstal", None),
            ("steelworks", "en"),
            ("Stahlwerke", None),
        ),
        {"de": "Auch das Stahlwerk in Mariupol wurde erwähnt."},
    ),
    Story(
        "sanctions",
        (
            _t(
                "de",
                "EU beschließt sechstes Sanktionspaket",
                "Das Paket sieht ein Ölembargo und den Ausschluss weiterer Banken aus Swift vor.",
            ),
            _t(
                "de",
                "Ungarn blockiert neues Sanktionspaket",
                "Budapest verlangt Ausnahmen für Öl aus Pipelines.",
            ),
            _t(
                "en",
                "EU agrees sixth package of sanctions",
                "An oil embargo and more banks cut off from Swift.",
            ),
        ),
        (
            ("Sanktionen", "de"),
            ("Sanktionspaket", None),
            ("Sanktion Paket", "de"),
            ("package of sanctions", "en"),
            ("Oelembargo", "de"),
        ),
        {"de": "Die Sanktionen zeigen nach Ansicht von Ökonomen Wirkung."},
    ),
    Story(
        "shoigu",
        (
            _t(
                "de",
                "Schoigu besucht Truppen an der Front",
                "Der russische Verteidigungsminister Sergej Schoigu zeigte sich bei den Soldaten.",
            ),
            _t(
                "en",
                "Shoigu visits troops at the front",
                "Russian defence minister Sergei Shoigu was shown meeting soldiers.",
            ),
            _t(
                "fr",
                "Choïgou rend visite aux troupes",
                "Le ministre russe de la Défense Sergueï Choïgou s'est montré au front.",
            ),
        ),
        (("Shoigu", None), ("Schoigu", None), ("Shoigu", "de"), ("Schoigu", "en"), ("Sergej Shoigu", None)),
        {
            "de": "Ein Sprecher von Schoigu äußerte sich nicht.",
            "en": "A spokesman for Shoigu declined to comment.",
        },
    ),
    Story(
        "gerasimov",
        (
            _t(
                "de",
                "Generalstabschef Gerassimow übernimmt Kommando",
                "Waleri Gerassimow soll die Offensive nun selbst leiten.",
            ),
            _t(
                "en",
                "Gerasimov takes command of the war",
                "Valery Gerasimov, chief of the general staff, will lead the offensive himself.",
            ),
        ),
        (
            ("Gerasimov", None),
            ("Gerassimow", None),
            ("Gerasimow", "de"),
            ("Gerassimow", "en"),
            ("Valery Gerasimov", "de"),
        ),
    ),
    Story(
        "zelensky",
        (
            _t(
                "de",
                "Selenskyj wirbt in Washington um Hilfe",
                "Der ukrainische Präsident Wolodymyr Selenskyj traf Abgeordnete im Kongress.",
            ),
            _t(
                "en",
                "Zelensky asks Congress for more aid",
                "Ukrainian president Volodymyr Zelensky met lawmakers in Washington.",
            ),
            _t(
                "fr",
                "Zelensky plaide pour une aide américaine",
                "Le président ukrainien a rencontré des élus à Washington.",
            ),
        ),
        (("Selenskyj", None), ("Zelensky", None), ("Zelenskyy", "de"), ("Selensky", None)),
    ),
    Story(
        "lavrov",
        (
            _t("de", "Lawrow droht dem Westen", "Außenminister Sergej Lawrow warnte vor Waffenlieferungen."),
            _t(
                "en",
                "Lavrov warns the West",
                "Foreign minister Sergei Lavrov warned against arms deliveries.",
            ),
        ),
        (("Lavrov", None), ("Lawrow", None), ("Lavrov", "de"), ("Sergey Lavrov", None)),
    ),
    Story(
        "navalny",
        (
            _t("de", "Nawalny in Straflager verlegt", "Der Oppositionelle Alexej Nawalny wurde verlegt."),
            _t(
                "en",
                "Navalny moved to penal colony",
                "Opposition leader Alexei Navalny has been transferred.",
            ),
        ),
        (("Navalny", None), ("Nawalny", None), ("Navalny", "de"), ("Alexei Nawalny", None)),
    ),
    Story(
        "medvedev",
        (
            _t(
                "de",
                "Medwedew droht mit Atomwaffen",
                "Der frühere Präsident Dmitri Medwedew schrieb auf Telegram.",
            ),
            _t(
                "en",
                "Medvedev threatens nuclear weapons",
                "Former president Dmitry Medvedev wrote on Telegram.",
            ),
        ),
        (("Medvedev", None), ("Medwedew", None), ("Medvedev Atomwaffen", "de")),
    ),
    Story(
        "peskov",
        (
            _t("de", "Peskow: Kein Treffen geplant", "Kremlsprecher Dmitri Peskow wies Berichte zurück."),
            _t("en", "Peskov says no meeting is planned", "Kremlin spokesman Dmitry Peskov denied reports."),
        ),
        (("Peskov", None), ("Peskow", "en"), ("Kremlsprecher", "de")),
    ),
    Story(
        "elysee",
        (
            _t(
                "fr",
                "Réunion de crise à l'Élysée",
                "Le président a convoqué ses ministres au palais de l'Élysée.",
            ),
            _t("en", "Crisis meeting at the Élysée", "The French president summoned his ministers."),
            _t(
                "de",
                "Krisentreffen im Élysée-Palast",
                "Der französische Präsident rief seine Minister zusammen.",
            ),
        ),
        (("Elysee", None), ("Élysée", "fr"), ("elysee reunion", "fr"), ("Elysee Palast", "de")),
    ),
    Story(
        "strasse",
        (
            _t(
                "de",
                "Hauptstraße wochenlang gesperrt",
                "Wegen Bauarbeiten ist die Hauptstraße in Lörrach dicht.",
            ),
            _t("de", "Umleitung über die Bahnhofstraße", "Autofahrer müssen in Lörrach Umwege fahren."),
        ),
        (
            ("Hauptstrasse", "de"),
            ("Hauptstraße gesperrt", None),
            ("Loerrach", None),
            ("Strasse gesperrt", "de"),
        ),
    ),
    Story(
        "garbage",
        (
            _t(
                "de",
                "Müllabfuhr streikt in Köln",
                "In Köln bleiben die Tonnen voll: die Müllabfuhr legt die Arbeit nieder.",
            ),
            _t("en", "Garbage collectors strike in Cologne", "Bins stay full in Cologne."),
        ),
        (("Muellabfuhr", None), ("Koeln Streik", "de"), ("Müll Köln", "de"), ("garbage strike", "en")),
    ),
    Story(
        "government",
        (
            _t(
                "de",
                "Bundesregierung einigt sich auf Haushalt",
                "Die Koalition beschließt den Etat für das kommende Jahr.",
            ),
            _t(
                "de",
                "Haushaltsstreit in der Regierung beigelegt",
                "Nach Wochen des Streits gibt es eine Einigung.",
            ),
            _t("en", "German government agrees budget", "The coalition settles next year's spending plans."),
        ),
        (
            ("Regierung Haushalt", "de"),
            ("Bundesregierung", None),
            ("Haushalt Einigung", "de"),
            ("government budget", "en"),
        ),
    ),
    Story(
        "nuclear",
        (
            _t(
                "de",
                "Atomkraftwerk Saporischschja ohne Strom",
                "Das größte Kraftwerk Europas hängt an Notstromaggregaten.",
            ),
            _t(
                "en",
                "Zaporizhzhia nuclear power plant loses power",
                "Europe's largest nuclear plant runs on diesel generators.",
            ),
            _t(
                "fr",
                "La centrale nucléaire de Zaporijia privée d'électricité",
                "La plus grande centrale d'Europe fonctionne sur des générateurs.",
            ),
        ),
        (
            ("Kraftwerk", "de"),
            ("Atomkraftwerk", None),
            ("nuclear plant", "en"),
            ("centrale nucleaire", "fr"),
            ("Notstrom", "de"),
        ),
    ),
    Story(
        "weapons",
        (
            _t(
                "de",
                "Berlin genehmigt weitere Waffenlieferungen",
                "Die Bundesregierung liefert Panzer und Munition an die Ukraine.",
            ),
            _t(
                "en",
                "Berlin approves more arms deliveries",
                "Germany will send tanks and ammunition to Ukraine.",
            ),
        ),
        (
            ("Lieferungen Waffen", "de"),
            ("Waffenlieferung", None),
            ("arms deliveries", "en"),
            ("Munition Panzer", "de"),
        ),
        {"de": "Über Waffenlieferungen wurde nicht gesprochen."},
    ),
    Story(
        "energy",
        (
            _t(
                "de", "Energiepreise steigen weiter", "Strom und Gas werden für Haushalte noch einmal teurer."
            ),
            _t("de", "Gaspreis auf Rekordhoch", "An der Börse kostet Gas so viel wie nie."),
            _t("en", "Energy prices keep rising", "Electricity and gas get more expensive for households."),
            _t(
                "fr",
                "Les prix de l'énergie continuent de grimper",
                "L'électricité et le gaz coûtent encore plus cher.",
            ),
        ),
        (
            ("Preise Energie", "de"),
            ("Energiepreis", None),
            ("Gas Preis", "de"),
            ("energy prices", "en"),
            ("prix energie", "fr"),
            ("electricite", "fr"),
        ),
    ),
    Story(
        "grain",
        (
            _t(
                "de",
                "Getreideabkommen verlängert",
                "Russland und die Ukraine einigen sich unter Vermittlung der Türkei.",
            ),
            _t("en", "Grain deal extended", "Russia and Ukraine agree under Turkish mediation."),
        ),
        (
            ("Getreide Abkommen", "de"),
            ("Abkommen", "de"),
            ("grain deal", None),
            ("Tuerkei Vermittlung", "de"),
        ),
    ),
    Story(
        "austria",
        (
            _t(
                "de",
                "Österreich wählt neues Parlament",
                "In Österreich sind 6,3 Millionen Menschen zur Wahl aufgerufen.",
            ),
            _t("en", "Austria elects a new parliament", "6.3 million people are called to vote."),
        ),
        (("Oesterreich Wahl", None), ("Österreich", "de"), ("Austria election", "en"), ("Oesterreich", "de")),
        {"de": "Auch in Österreich wird darüber diskutiert."},
    ),
    Story(
        "mayor",
        (
            _t(
                "de",
                "Bürgermeisterin von Zürich tritt zurück",
                "Nach zwölf Jahren im Amt hört die Stadtpräsidentin auf.",
            ),
            _t("en", "Zurich mayor steps down", "After twelve years in office the mayor of Zurich resigns."),
        ),
        (
            ("Buergermeisterin Zuerich", None),
            ("Zürich", "de"),
            ("Zuerich", None),
            ("Buergermeisterin", "de"),
            ("Zurich mayor", "en"),
        ),
    ),
    Story(
        "football",
        (
            _t("de", "Fußball: Bayern verliert in Dortmund", "Der Meister unterliegt dem BVB mit 1:3."),
            _t(
                "de",
                "Fußballtrainer entlassen",
                "Der Verein trennt sich nach fünf Niederlagen von seinem Trainer.",
            ),
            _t("en", "Football: Bayern lose in Dortmund", "The champions were beaten 3-1."),
        ),
        (
            ("Fussball", "de"),
            ("Fussball Bayern", None),
            ("Trainer entlassen", "de"),
            ("football Dortmund", "en"),
        ),
    ),
    Story(
        "cafe",
        (
            _t(
                "fr",
                "Le café de Flore fête ses 140 ans",
                "Le célèbre café de Saint-Germain-des-Prés célèbre son anniversaire.",
            ),
            _t(
                "fr",
                "Les cafés parisiens face à la hausse des prix",
                "Le prix de l'expresso dépasse deux euros.",
            ),
        ),
        (("cafe Flore", "fr"), ("cafe", "fr"), ("celebre cafe", None), ("Saint Germain des Pres", "fr")),
    ),
    Story(
        "chernobyl",
        (
            _t(
                "de",
                "Tschernobyl: Soldaten ziehen ab",
                "Russische Truppen haben das Gelände des Reaktors verlassen.",
            ),
            _t(
                "en",
                "Chernobyl: Russian troops withdraw",
                "Russian soldiers have left the site of the reactor.",
            ),
        ),
        (("Chernobyl", None), ("Tschernobyl", None), ("Chernobyl Reaktor", "de")),
    ),
    Story(
        "kharkiv",
        (
            _t("de", "Raketen auf Charkiw", "In der zweitgrößten Stadt der Ukraine gab es Explosionen."),
            _t("en", "Missiles hit Kharkiv", "Explosions shook Ukraine's second largest city."),
        ),
        (("Kharkiv", None), ("Charkiw", None), ("Kharkiv Raketen", "de")),
    ),
    Story(
        "pentagon",
        (
            _t(
                "de",
                "Zum ersten Mal sprechen amerikanische und russische Stabschefs",
                "Das Pentagon bestätigte ein Telefonat von General Mark Milley mit Valery Gerasimov.",
            ),
            _t(
                "en",
                "US and Russian military chiefs speak for the first time",
                "The Pentagon confirmed a call between Mark Milley and his Russian counterpart.",
            ),
        ),
        (
            ("Stabschef", "de"),
            ("Pentagon", None),
            ("Stabschefs Telefonat", "de"),
            ("Milley", None),
            ("military chiefs", "en"),
        ),
    ),
    Story(
        "flood",
        (
            _t(
                "de",
                "Hochwasserschutz soll verbessert werden",
                "Nach den Überschwemmungen plant das Land neue Deiche.",
            ),
            _t("en", "Flood defences to be improved", "After the floods the state plans new dikes."),
        ),
        (
            ("Hochwasser Schutz", "de"),
            ("Ueberschwemmungen", None),
            ("Deiche", "de"),
            ("flood defences", "en"),
        ),
    ),
    Story(
        "defence",
        (
            _t(
                "de",
                "Verteidigungsministerium bestellt neue Hubschrauber",
                "Die Bundeswehr erhält sechzig Transporthubschrauber.",
            ),
            _t(
                "en",
                "Defence ministry orders new helicopters",
                "The armed forces will get sixty transport helicopters.",
            ),
        ),
        (
            ("Ministerium Verteidigung", "de"),
            ("Hubschrauber", None),
            ("Transporthubschrauber", "de"),
            ("defence ministry", "en"),
        ),
    ),
    Story(
        "inflation",
        (
            _t("de", "Inflation sinkt auf drei Prozent", "Die Teuerung schwächt sich im Herbst ab."),
            _t("en", "Inflation falls to three percent", "Price growth eases in autumn."),
            _t("fr", "L'inflation tombe à trois pour cent", "La hausse des prix ralentit à l'automne."),
        ),
        (("Inflation", None), ("Inflation", "fr"), ("Teuerung", "de"), ("inflation percent", "en")),
    ),
    Story(
        "whitehouse",
        (
            _t(
                "en",
                "White House announces new climate plan",
                "The administration wants to cut emissions in half.",
            ),
            _t("de", "Weißes Haus kündigt Klimaplan an", "Die Regierung will die Emissionen halbieren."),
        ),
        (('"White House"', None), ("climate plan", "en"), ("Weisses Haus", "de"), ("Klimaplan", None)),
    ),
    Story(
        "strike",
        (
            _t(
                "de",
                "Lokführer streiken erneut",
                "Die Gewerkschaft ruft zu einem Streik im Personenverkehr auf.",
            ),
            _t("en", "Train drivers strike again", "The union calls a strike in passenger services."),
        ),
        (
            ("Lokfuehrer", None),
            ("Streik Gewerkschaft", "de"),
            ("train drivers strike", "en"),
            ("Streik -Fußball", "de"),
        ),
    ),
    Story(
        "greens",
        (
            _t("de", "Grüne wählen neue Doppelspitze", "Der Parteitag bestimmt zwei neue Vorsitzende."),
            _t("en", "Greens elect new co-leaders", "The party congress chose two new leaders."),
        ),
        (("Gruene Parteitag", None), ("Grüne", "de"), ("Doppelspitze", "de"), ("Greens co-leaders", "en")),
    ),
    Story(
        "schools",
        (
            _t(
                "de",
                "Lehrermangel an Grundschulen",
                "Vielen Schulen fehlen zum Schuljahresbeginn Lehrkräfte.",
            ),
            _t(
                "fr",
                "Pénurie d'enseignants dans les écoles",
                "De nombreuses écoles manquent de professeurs à la rentrée.",
            ),
        ),
        (("Lehrer Mangel", "de"), ("Grundschule", "de"), ("penurie enseignants", "fr"), ("ecoles", "fr")),
    ),
)

# Articles on other subjects: the common words of each language, none of the stories'.
FILLER = {
    "de": (
        ("Wetter am Wochenende", "Am Samstag scheint die Sonne, am Sonntag regnet es im Norden."),
        ("Neues Museum eröffnet", "Die Ausstellung zeigt Werke aus drei Jahrhunderten."),
        ("Bahn kündigt Baustellen an", "Reisende müssen im Sommer mit Verspätungen rechnen."),
        ("Mieten steigen in Großstädten", "Wohnungen in Berlin und München werden teurer."),
        ("Studie zu Schlaf und Gesundheit", "Forscher untersuchten die Gewohnheiten von tausend Menschen."),
        ("Festival zieht Besucher an", "Drei Tage Musik unter freiem Himmel."),
        ("Polizei sucht Zeugen", "Nach einem Unfall auf der Landstraße bittet die Polizei um Hinweise."),
        ("Neue Radwege geplant", "Die Stadt will das Netz in fünf Jahren verdoppeln."),
    ),
    "en": (
        ("Weekend weather", "Sunshine on Saturday, rain in the north on Sunday."),
        ("New museum opens", "The exhibition shows works from three centuries."),
        ("Rail operator announces works", "Travellers should expect delays in summer."),
        ("Rents rise in big cities", "Flats in London and Manchester are getting more expensive."),
        ("Study on sleep and health", "Researchers looked at the habits of a thousand people."),
        ("Festival draws crowds", "Three days of music in the open air."),
    ),
    "fr": (
        ("La météo du week-end", "Du soleil samedi, de la pluie dans le nord dimanche."),
        ("Un nouveau musée ouvre ses portes", "L'exposition présente des œuvres de trois siècles."),
        (
            "Les loyers augmentent dans les grandes villes",
            "Les appartements à Paris et Lyon coûtent plus cher.",
        ),
        ("Un festival attire la foule", "Trois jours de musique en plein air."),
    ),
}
FILLER_COPIES = 10  # each filler text, numbered, this many times: 180 articles


@dataclass(frozen=True)
class Judged:
    q: str
    language: str | None
    grades: dict[str, int]  # article id → grade (0 when absent)


@dataclass(frozen=True)
class Corpus:
    documents: list[Document]
    judged: list[Judged]


def corpus() -> Corpus:
    """The articles and the judged queries (ids are stable: uuid5 of the article's place)."""
    documents: list[Document] = []
    now = datetime(2026, 11, 1, tzinfo=UTC)
    roles: dict[str, list[tuple[str, str, int]]] = {}  # story → (article id, language, grade)

    def add(key: str, text: Text) -> str:
        article_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"judged/{key}"))
        documents.append(
            Document(
                article_id=article_id,
                language=text.language,
                slug=key.replace("/", "-"),
                title=text.title,
                lead=text.lead,
                body=text.body,
                section="world",
                tags=[],
                published_at=now - timedelta(hours=len(documents)),
                version=1,
                config=config_for(text.language),
            )
        )
        return article_id

    for story in STORIES:
        firsts: set[str] = set()
        for n, text in enumerate(story.texts):
            grade = 3 if text.language not in firsts else 2
            firsts.add(text.language)
            roles.setdefault(story.key, []).append((add(f"{story.key}/{n}", text), text.language, grade))
    for language, texts in FILLER.items():
        for copy in range(FILLER_COPIES):
            for n, (title, lead) in enumerate(texts):
                mention = ""
                # Every story's mention goes into one filler article of its language.
                mentioning = [s for i, s in enumerate(STORIES) if language in s.mentions and i % 8 == n]
                if copy == 0 and mentioning:
                    mention = " ".join(s.mentions[language] for s in mentioning)
                article_id = add(
                    f"filler/{language}/{copy}/{n}", _t(language, f"{title} ({copy + 1})", lead, mention)
                )
                for story in mentioning if mention else ():
                    roles[story.key].append((article_id, language, 1))
    judged = [
        Judged(q, language, {aid: g for aid, lang, g in roles[story.key] if language in (None, lang)})
        for story in STORIES
        for q, language in story.queries
    ]
    return Corpus(documents, judged)


def dcg(grades: Sequence[int]) -> float:
    return float(sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades)))


def ndcg_at(k: int, ranked: Sequence[str], grades: Mapping[str, int]) -> float:
    ideal = dcg(sorted(grades.values(), reverse=True)[:k])
    return dcg([grades.get(a, 0) for a in ranked[:k]]) / ideal if ideal else 0.0


def reciprocal_rank(ranked: Sequence[str], grades: Mapping[str, int]) -> float:
    """1/rank of the first relevant (grade ≥ 2) hit; 0 when none is found."""
    return next((1.0 / (i + 1) for i, a in enumerate(ranked) if grades.get(a, 0) >= 2), 0.0)


@dataclass(frozen=True)
class Scores:
    ndcg10: float
    mrr: float
    per_query: list[tuple[Judged, float]]

    def worst(self, n: int) -> Iterator[tuple[Judged, float]]:
        return iter(sorted(self.per_query, key=lambda item: item[1])[:n])


def scores(judged: Sequence[Judged], rankings: Sequence[Sequence[str]]) -> Scores:
    ndcgs = [ndcg_at(10, ranked, j.grades) for j, ranked in zip(judged, rankings, strict=True)]
    rrs = [reciprocal_rank(ranked, j.grades) for j, ranked in zip(judged, rankings, strict=True)]
    return Scores(
        ndcg10=sum(ndcgs) / len(ndcgs),
        mrr=sum(rrs) / len(rrs),
        per_query=list(zip(judged, ndcgs, strict=True)),
    )


# Main's behaviour before matching as readers type: PostgreSQL's own configurations, nothing
# added to the text, the query as the configuration parses it.
BEFORE = {"de": "german", "en": "english", "fr": "french"}


def _before(language: str | None) -> str | None:
    return None if language is None else BEFORE.get(language, "simple")


async def index(conn: Connection, documents: Sequence[Document], mode: str, splitter: Splitter) -> None:
    """Index the documents as main did (`before`) or as this branch does (`after`), emptying
    the index first."""
    await conn.execute("TRUNCATE search.documents, search.words")
    for doc in documents:
        if mode == "before":
            await store.upsert(conn, replace(doc, config=_before(doc.language) or "simple"))
        else:
            added = additions_of(doc, splitter)
            await store.upsert(conn, doc, added.extra)
            await words.add(conn, doc.config, added.words, added.headline)
    await conn.execute("ANALYZE search.documents")


async def rankings(
    conn: Connection, judged: Sequence[Judged], mode: str, settings: SearchSettings
) -> list[list[str]]:
    """The ids of each query's first ten hits: `after` through the search API's own `find`."""
    ranked: list[list[str]] = []
    for j in judged:
        if mode == "after":
            query = SearchQuery(q=j.q, language=j.language, limit=10)
            hits = await api.find(conn, query, 0, settings, api.IndexChoice(settings))
        else:
            plan = search_query.plan(await store.forms(conn, j.q, _before(j.language)))
            hits = (
                []
                if plan is None
                else await store.search(
                    conn,
                    plan,
                    language=j.language,
                    section=None,
                    tag=None,
                    candidates=settings.search_max_candidates,
                    limit=10,
                    offset=0,
                    rum=False,
                    windows=(),
                )
            )
        ranked.append([str(hit.id) for hit in hits])
    return ranked
