"""Articles for the ads unit tests: the shared fixture and realistic texts written for them."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

from cms.events.contract import Article
from consumers.ads.text import block_text
from tests.helpers import fixture

_NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def article(**fields: Any) -> Article:
    """A published article with these fields (the rest plausible defaults)."""
    defaults: dict[str, Any] = {
        "id": uuid.uuid4(),
        "slug": "artikel",
        "language": "de",
        "title": "Titel",
        "lead": "",
        "body": [],
        "section": "world",
        "tags": [],
        "authors": ["Redaktion"],
        "related": [],
        "status": "published",
        "publish_at": None,
        "unpublish_at": None,
        "published_at": _NOW,
        "first_published_at": _NOW,
        "created_at": _NOW,
        "updated_at": _NOW,
        "owner": "eddie",
        "version": 2,
    }
    return Article.model_validate({**defaults, **fields})


def paragraphs(*texts: str) -> list[dict[str, str]]:
    return [{"type": "paragraph", "text": text} for text in texts]


def stabschefs() -> Article:
    return article(**fixture("article-stabschefs.de.json"))


SPORT_DE = article(
    section="sport",
    title="Bayern dreht das Spiel in Dortmund: Kane trifft doppelt",
    lead="Nach einem frühen Rückstand kämpft sich der FC Bayern zurück und gewinnt das "
    "Spitzenspiel mit 3:1. Die Dortmunder Abwehr hält dem Druck in der zweiten Halbzeit nicht stand.",
    tags=["bundesliga", "fc-bayern", "borussia-dortmund"],
    body=[
        *paragraphs(
            "Vor 81.365 Zuschauern im ausverkauften Signal Iduna Park erwischte der BVB den besseren "
            "Start. Nach einer Flanke von Ryerson köpfte Guirassy in der 12. Minute unhaltbar zum 1:0 "
            "ein. Die Gastgeber liefen früh an und ließen die Münchner kaum zur Entfaltung kommen.",
            "Bayern brauchte eine halbe Stunde, um in den Angriff zu finden. Musiala scheiterte mit "
            "einem Schuss aus 18 Metern am glänzend reagierenden Kobel, kurz darauf rettete ein "
            "Verteidiger auf der Linie. Die Dortmunder Fans feierten jede gewonnene Abwehrschlacht "
            "wie ein Tor.",
            "Nach der Pause erhöhte Kompany mit einem Doppelwechsel das Tempo. Der eingewechselte Olise "
            "bereitete in der 54. Minute den Ausgleich vor: Kane verwandelte seinen Pass mit einem "
            "trockenen Schuss ins lange Eck.",
        ),
        {"type": "heading", "level": 2, "text": "Kane entscheidet das Duell im Sturm"},
        *paragraphs(
            "Danach kippte das Spiel. Dortmund verlor im Mittelfeld die Zweikämpfe, die Bayern "
            "kombinierten sich immer wieder in den Strafraum. Nach einem Foul an Sané zeigte "
            "Schiedsrichter Zwayer auf den Punkt, Kane ließ sich die Chance nicht nehmen.",
            "Den Schlusspunkt setzte Gnabry nach einem Konter in der 88. Minute. Bitter für den BVB: "
            "Kapitän Can musste kurz vor Schluss verletzt vom Platz, die Diagnose steht noch aus.",
            "Mit dem Sieg baut der Rekordmeister seinen Vorsprung an der Tabellenspitze auf sechs "
            "Punkte aus. Dortmund muss am Mittwoch im Pokal beim VfB Stuttgart antreten.",
        ),
    ],
)

SPORT_EN = article(
    language="en",
    section="sport",
    title="Arsenal edge Chelsea in derby thriller as Saka strikes late",
    lead="A 2-1 win at the Emirates keeps Arsenal top of the Premier League after a tense battle "
    "for control of midfield.",
    tags=["premier-league", "arsenal", "chelsea"],
    body=paragraphs(
        "Chelsea started on the attack and took the lead after nine minutes, when Palmer fired a "
        "low shot past Raya from the edge of the box. Arsenal's defenders were caught flat as the "
        "visitors pressed high.",
        "Arteta's side fought back before the break. Ødegaard threaded a killer pass through the "
        "Chelsea defence and Havertz, against his former club, slotted home the equaliser.",
        "The second half was a battle of nerves. Sánchez produced two fine saves, and a "
        "Martinelli strike hit the post, before Saka cut inside in the 87th minute and curled the "
        "winner into the top corner.",
        "Chelsea finished with ten men after Caicedo picked up a second booking, and their "
        "captain limped off with an ankle injury that Maresca said would be assessed this week.",
    ),
)

RECIPE_DE = article(
    section="food",
    title="Rinderrouladen wie bei Oma: Schritt für Schritt",
    lead="Mit Senf, Speck und Gewürzgurken gefüllt und drei Stunden geschmort: So werden "
    "Rouladen zart und die Soße kräftig.",
    tags=["rezept", "sonntagsessen", "rind"],
    body=[
        {
            "type": "list",
            "ordered": False,
            "items": [
                "4 dünne Rinderrouladen aus der Oberschale",
                "4 TL mittelscharfer Senf",
                "8 Scheiben Frühstücksspeck",
                "2 Gewürzgurken, 2 Zwiebeln",
                "1 Schuss Rotwein, 500 ml Rinderfond",
            ],
        },
        *paragraphs(
            "Die Rouladen mit dem Fleischklopfer vorsichtig flach klopfen, salzen, pfeffern und "
            "dünn mit Senf bestreichen. Mit Speck, Gurkenstreifen und Zwiebelringen belegen, "
            "aufrollen und mit Rouladennadeln feststecken.",
            "In einem Bräter Öl stark erhitzen und die Rouladen rundum scharf anbraten. Herausnehmen, "
            "das Gemüse im Bratfett rösten und mit einem Schuss Rotwein ablöschen.",
            "Fond angießen, die Rouladen zurück in den Bräter legen und zugedeckt bei kleiner Hitze "
            "etwa zweieinhalb bis drei Stunden schmoren. Zwischendurch wenden.",
            "Zum Schluss die Soße durch ein Sieb streichen, mit etwas Sahne verfeinern und "
            "abschmecken. Dazu passen Rotkohl und Kartoffelklöße. Als Nachtisch eine Waffel mit "
            "heißen Kirschen.",
        ),
    ],
)

RECIPE_FR = article(
    language="fr",
    section="food",
    title="Tarte Tatin : la recette inratable",
    lead="Des pommes caramélisées, une pâte brisée bien croustillante et un seul secret : la patience.",
    tags=["recette", "dessert"],
    body=paragraphs(
        "Épluchez huit pommes, coupez-les en quartiers et retirez le cœur avec un couteau d'office.",
        "Dans un moule à manqué, faites fondre 120 g de beurre avec 150 g de sucre jusqu'à obtenir un "
        "caramel blond. Disposez les quartiers bien serrés et laissez cuire vingt minutes à feu doux.",
        "Recouvrez de pâte brisée, rentrez les bords et enfournez 35 minutes à 190 °C. Attendez dix "
        "minutes avant de démouler d'un geste franc. Servez tiède avec une crème fraîche épaisse.",
    ),
)


def long_german_article(size: int = 1_900_000) -> Article:
    """About `size` bytes of German news text (the war report, the match report, the recipe,
    over and over, each copy numbered): what an editor's 1.9 MB paste looks like to brand safety."""
    texts = [
        block_text(block)
        for sample in (stabschefs(), SPORT_DE, RECIPE_DE)
        for block in sample.body
        if block_text(block)
    ]
    body: list[dict[str, str]] = []
    total = 0
    while total < size:
        text = f"Abschnitt {len(body) + 1}: {texts[len(body) % len(texts)]}"
        body.append({"type": "paragraph", "text": text})
        total += len(text.encode())
    return article(title="Chronik: Stabschefs, Bundesliga und Rouladen", section="world", body=body)


def distinct_german_words(count: int, seed: int = 11) -> str:
    """`count` different long compounds, many holding a listed term ("Kriegsschiffmütze"): every
    word is new to the matcher's caches, so the cost per word shows."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test text, not a secret)
    parts = (
        "kriegs", "haus", "wasser", "leichen", "bomben", "stimmung", "angriffs", "schuss", "tor",
        "verteidigungs", "minister", "amt", "schiff", "fahrt", "kapitän", "feuer", "wehr", "brand",
    )  # fmt: skip
    words: set[str] = set()
    while len(words) < count:
        stem = "".join(rng.choice(parts) for _ in range(rng.randint(2, 4)))
        words.add((stem + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(3))).capitalize())
    return " ".join(sorted(words))
