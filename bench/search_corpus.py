"""Synthetic news articles in German, English and French for the search benchmark.

Words follow a Zipf-Mandelbrot law over a ranked vocabulary per language, as in real text:
function words at the top (most are stop words, dropped by the text search configuration),
then a few hundred common news words and phrases ("Europäische Union", "White House"), then a
long tail of German compounds and names, so that a query word may match half the documents
of its language or a few dozen. Bodies are built from a pool of generated sentences, so that
100,000 articles of realistic length take seconds, not minutes; seeded, so every run indexes
the same text.
"""

from __future__ import annotations

import bisect
import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from consumers.search.document import Document, config_for


def _words(text: str) -> list[str]:
    """Whitespace-separated words; `_` joins the words of a phrase."""
    return text.split()


FUNCTION_DE = _words(
    """
der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an
werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war
haben nur oder aber vor zur bis mehr durch man sein wurde sei seit gegen unter sollen kann wir
ihre seine worden habe schon hatte zwischen diese dieser beim wenn doch weil ihr ihren sagte
"""
)

CONTENT_DE = _words(
    """
Prozent Jahr Millionen Milliarden Euro Menschen Ukraine Russland Deutschland Berlin Regierung
Bundesregierung Kanzler Minister Präsident Partei Wahl Bundestag Polizei Stadt Land Woche
Donnerstag Montag Dienstag Mittwoch Freitag Samstag Sonntag Krieg Unternehmen Wirtschaft
Europäische_Union Olaf_Scholz Vereinigte_Staaten Kiew Moskau Brüssel Washington Paris Kreml
erklärte betonte kündigte forderte kritisierte warnte berichtete bestätigte teilte meldete
neue neuen ersten großen deutschen europäischen internationalen politischen wichtigen weiteren
Sanktionen Sanktionspaket Export Energie Gas Strom Preise Inflation Zinsen Bank Börse Aktie
Haushalt Steuer Steuern Schulden Rente Arbeit Arbeitsmarkt Gewerkschaft Streik Löhne Tarif
Koalition Opposition Abgeordnete Parlament Gesetz Entwurf Reform Debatte Streit Einigung
Gericht Urteil Klage Staatsanwaltschaft Ermittlungen Verdacht Anklage Prozess Richter
Opfer Unfall Feuer Feuerwehr Rettungskräfte Verletzte Tote Angriff Anschlag Explosion
Klima Klimawandel Hitze Dürre Hochwasser Regen Sturm Unwetter Wetter Temperaturen Sommer Winter
Schule Schulen Lehrer Schüler Universität Studie Forscher Wissenschaftler Ergebnisse Daten
Gesundheit Krankenhaus Ärzte Pflege Patienten Impfung Virus Pandemie Corona Medikamente
Fußball Bundesliga Trainer Spiel Tor Mannschaft Verein Saison Meisterschaft Olympia Sieg
Kultur Theater Film Musik Konzert Festival Museum Ausstellung Buch Autor Künstler Preis
Soldaten Armee Militär Waffen Panzer Raketen Front Offensive Truppen Verteidigung Nato
Flüchtlinge Migration Grenze Asyl Integration Bürger Bevölkerung Gesellschaft Familien Kinder
Waffenstillstand Verhandlungen Gespräche Treffen Gipfel Konferenz Vertrag Abkommen Frieden
Pentagon Stabschef Invasion Kapitulation Widerstand Sprecher Sprecherin Kommunikation
Bahn Verkehr Auto Autos Flughafen Flug Züge Straße Autobahn Stau Fahrrad Elektroautos
Digitalisierung Internet Daten Plattform Technologie künstliche_Intelligenz Software Apple
Landwirtschaft Bauern Lebensmittel Supermarkt Verbraucher Handel Kunden Produkte Markt
Wohnungen Mieten Miete Bau Immobilien Wohnungsmarkt Eigentümer Mieter Bauprojekt Stadtrat
Bürgermeister Landesregierung Ministerpräsident Landtag Bundesrat Kommune Gemeinde Landkreis
Emmanuel_Macron Wladimir_Putin Wolodymyr_Selenskyj Joe_Biden China Peking Frankreich Polen
Italien Spanien Großbritannien London Österreich Wien Schweiz Türkei Israel Iran Gaza Syrien
Afrika Asien Amerika Indien Japan Nahost Westen Osten Süden Norden Region Welt Europa
Wahlkampf Umfrage Stimmen Kandidat Kandidatin Mehrheit Ergebnis Wähler Grünen SPD CDU FDP AfD
Luxusgüter Luxusgütern Verbot Maßnahmen Entscheidung Vorschlag Plan Ziel Frage Problem Lage
Kosten Hilfe Unterstützung Millionenhilfe Förderung Investitionen Milliardenpaket Fonds
Behörden Ministerium Kommission Ausschuss Bericht Zahlen Statistik Anstieg Rückgang Wachstum
Sicherheit Gefahr Risiko Schutz Kontrolle Überwachung Regeln Vorschriften Grenzwerte
Zukunft Vergangenheit Geschichte Jahrzehnt Jahrhundert Generation Alter Jugend Frauen Männer
wollen müssen können sollen dürfen gehen kommen stehen liegen bleiben zeigen geben nehmen
deutlich stark schwer klar offen lang hoch niedrig schnell langsam bereits erneut weiterhin
"""
)

FUNCTION_EN = _words(
    """
the of and to a in that is for on it with as was he said by at from his an be has have are
its but not were they who been had this which will their after more would about one also we
up or than new her two over into when there out first last could been some other
"""
)

CONTENT_EN = _words(
    """
percent year people million billion dollars Ukraine Russia United_States government president
minister election party police city country week Monday Tuesday Wednesday Thursday Friday
war company companies economy market markets prices inflation interest rates bank stocks
White_House Joe_Biden Donald_Trump Washington London Kyiv Moscow Beijing European_Union
announced warned criticised reported confirmed according told added called expected
new first major national international political important former senior local public
sanctions exports energy gas oil electricity power climate climate_change heat drought flood
budget tax taxes debt pension jobs workers union strike wages unemployment labour
coalition opposition lawmakers parliament Congress Senate bill law reform debate vote deal
court ruling lawsuit prosecutors investigation charges trial judge jury evidence verdict
victims accident fire firefighters injured killed attack shooting explosion crash
storm rain weather temperatures summer winter wildfire hurricane emissions carbon
school schools teachers students university study researchers scientists results data
health hospital doctors patients vaccine virus pandemic Covid drugs treatment care
football league coach match goal team club season championship Olympics win players
culture theatre film music concert festival museum exhibition book author artist award
soldiers army military weapons tanks missiles troops defence Nato offensive ceasefire
refugees migration border asylum citizens population society families children
talks negotiations meeting summit conference treaty agreement peace leaders
Pentagon chief invasion surrender resistance spokesman spokeswoman statement
rail transport cars airport flights trains road traffic electric_vehicles
technology internet platform software artificial_intelligence Apple Google Microsoft
farmers food supermarket consumers trade customers products retail supply chain
housing rents construction property homeowners tenants mortgage council mayor
governor state states federal region China France Germany Poland Italy Spain Britain
Israel Iran Gaza Syria Africa Asia America India Japan Middle_East world Europe
campaign poll votes candidate majority voters Republicans Democrats Labour Conservatives
ban measures decision proposal plan target question problem situation crisis
costs aid support funding investment package fund agency ministry commission
report figures statistics rise fall growth security risk protection control rules
future history decade century generation women men young old
want must could should may go come stand remain show give take make say
clearly strongly sharply openly already again still quickly slowly nearly
"""
)

FUNCTION_FR = _words(
    """
de la le et les des en un une du est que dans pour qui au a par sur pas plus ne se il sont
avec ce ont été son sa ses elle mais comme ou leur aux nous cette être fait aussi entre après
ils tout deux été avait selon lors dont sans sous depuis contre même encore été très vers
"""
)

CONTENT_FR = _words(
    """
pour_cent année millions milliards euros personnes Ukraine Russie France Paris gouvernement
président ministre élection parti police ville pays semaine lundi mardi mercredi jeudi
vendredi samedi dimanche guerre entreprise entreprises économie marché prix inflation taux
banque Bourse Union_européenne Emmanuel_Macron Élysée Assemblée_nationale Sénat Matignon
a_annoncé a_déclaré a_affirmé a_critiqué a_averti a_confirmé selon nouveau nouvelle premier
grand grande national nationale international politique important ancienne locale publique
sanctions exportations énergie gaz pétrole électricité climat réchauffement_climatique canicule
sécheresse inondations budget impôt impôts dette retraite retraites emploi chômage salariés
syndicat grève salaires coalition opposition députés Parlement loi réforme débat vote accord
tribunal décision procès juge enquête parquet accusation victimes accident incendie pompiers
blessés morts attaque attentat explosion tempête pluie météo températures été hiver
école écoles enseignants élèves université étude chercheurs scientifiques résultats données
santé hôpital médecins patients vaccin virus pandémie Covid médicaments soins
football Ligue_1 entraîneur match but équipe club saison championnat Jeux_olympiques victoire
culture théâtre film musique concert festival musée exposition livre auteur artiste prix
soldats armée militaire armes chars missiles troupes défense Otan offensive cessez-le-feu
réfugiés migration frontière asile citoyens population société familles enfants
négociations pourparlers réunion sommet conférence traité paix dirigeants
Pentagone chef invasion capitulation résistance porte-parole communiqué
SNCF transports voitures aéroport vols trains route circulation voitures_électriques
technologie internet plateforme logiciel intelligence_artificielle Apple Google
agriculteurs alimentation supermarché consommateurs commerce clients produits
logement loyers construction immobilier propriétaires locataires maire mairie
région département Allemagne Berlin Italie Espagne Royaume-Uni Londres Belgique Bruxelles
Israël Iran Gaza Syrie Afrique Asie Amérique Chine Inde Japon Proche-Orient monde Europe
campagne sondage voix candidat candidate majorité électeurs Renaissance Républicains
interdiction mesures proposition projet objectif question problème situation crise
coûts aide soutien financement investissement plan fonds agence ministère commission
rapport chiffres statistiques hausse baisse croissance sécurité risque protection contrôle
avenir histoire décennie siècle génération femmes hommes jeunes
vouloir devoir pouvoir aller venir rester montrer donner prendre faire dire
clairement fortement déjà encore toujours rapidement lentement presque
"""
)

# German compounds: first part + second part ("Sicherheitspolitik", "Klimagipfel", ...).
_HEADS_DE = _words(
    """
Bundes Landes Staats Wirtschafts Verteidigungs Sicherheits Energie Klima Gesundheits Finanz
Außen Innen Kriegs Friedens Flüchtlings Wahl Steuer Renten Arbeits Kinder Schul Verkehrs
Bahn Auto Strom Gas Öl Wohnungs Miet Bau Umwelt Agrar Handels Export Zoll Banken Kredit Zins
Preis Lohn Gewerkschafts Polizei Justiz Gerichts Regierungs Partei Koalitions Oppositions
Parlaments Minister Kanzler Sanktions Waffen Militär Nato Europa Welt Stadt Gemeinde Kreis
Hochschul Forschungs Daten Internet Medien Fußball Sport Kultur Film Musik Theater Kunst
"""
)
_TAILS_DE = _words(
    """
politik minister ministerin ministerium gesetz reform krise paket plan programm debatte streit
vertrag abkommen konferenz gipfel bericht studie prognose daten markt preise kosten steuer
abgabe hilfe hilfen fonds behörde amt kommission ausschuss gericht urteil verfahren klage
skandal affäre wahl kampf lage sicherheit versorgung wende ziel ziele projekt netz system
verband chef chefin sprecher sprecherin experte expertin verbot grenze regeln streik demo
"""
)
_SYLLABLES = _words(
    """
ka ber man dor lin stein berg mann ski ov ic son ton ley ford hart wald feld ro na li sa ve mi
go tra bel dan mar ris tel gun hol bru sch we ke ta no el an ur os ha re ni ko pe da lo fi be
"""
)

SECTIONS = {
    "de": ["politik", "wirtschaft", "ausland", "sport", "kultur", "wissen", "panorama", "regional"],
    "en": ["politics", "business", "world", "sport", "culture", "science", "uk", "us"],
    "fr": ["politique", "economie", "international", "sport", "culture", "sciences", "societe"],
}
TAGS = {
    "de": ["ukraine", "russland", "eu", "klima", "energie", "wahl", "bundestag", "fussball", "corona"],
    "en": ["ukraine", "russia", "eu", "climate", "energy", "election", "congress", "football", "covid"],
    "fr": ["ukraine", "russie", "ue", "climat", "energie", "election", "assemblee", "football", "covid"],
}
# The languages of the corpus and their shares of its articles.
SHARES = {"de": 0.45, "en": 0.35, "fr": 0.20}


@dataclass(frozen=True)
class Language:
    code: str
    words: list[str]
    cumulative: list[float]
    content_from: int  # rank of the first non-function word

    def pick(self, rng: random.Random, k: int, content_only: bool = False) -> list[str]:
        low = self.cumulative[self.content_from - 1] if content_only else 0.0
        high = self.cumulative[-1]
        return [
            self.words[bisect.bisect(self.cumulative, low + rng.random() * (high - low))] for _ in range(k)
        ]


def _vocabulary(code: str, rng: random.Random, tail_size: int) -> Language:
    function, content = {
        "de": (FUNCTION_DE, CONTENT_DE),
        "en": (FUNCTION_EN, CONTENT_EN),
        "fr": (FUNCTION_FR, CONTENT_FR),
    }[code]
    tail: set[str] = set()
    if code == "de":
        tail.update(head + end for head in _HEADS_DE for end in _TAILS_DE)
    while len(tail) < tail_size:
        tail.add("".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))).capitalize())
    content = list(dict.fromkeys(content))
    taken = {*function, *content}
    tail_words = [word for word in sorted(tail) if word not in taken]
    rng.shuffle(tail_words)
    del tail_words[tail_size:]
    # The news words spread over the ranks on a geometric scale, from the 20th after the
    # function words (in about a third of the articles) to the 25,000th (in 1 of 400), the
    # tail filling the ranks between them.
    size = len(function) + len(content) + len(tail_words)
    first, last = len(function) + 20, min(size - 1, 25_000)
    slots: dict[int, str] = {}
    for number, word in enumerate(content):
        rank = round(first * (last / first) ** (number / (len(content) - 1)))
        while rank in slots:
            rank += 1
        slots[rank] = word
    assert max(slots) < size
    rest = iter(tail_words)
    ranked = [
        *function,
        *(slots[rank] if rank in slots else next(rest) for rank in range(len(function), size)),
    ]
    words = [word.replace("_", " ") for word in ranked]
    # Zipf-Mandelbrot, s = 1, q = 2.7: the law word frequencies follow in running text.
    weights = [1.0 / (rank + 2.7) for rank in range(1, len(words) + 1)]
    return Language(code, words, list(itertools.accumulate(weights)), len(function))


def _sentence(language: Language, rng: random.Random) -> str:
    words = language.pick(rng, rng.randint(6, 24))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


@dataclass(frozen=True)
class Corpus:
    """Article documents, as the search consumer would have built them."""

    languages: dict[str, Language]
    sentences: dict[str, list[str]]
    seed: int

    def documents(
        self,
        count: int,
        *,
        shares: dict[str, float] | None = None,
        years: float = 3.0,
        start: int = 0,
        stride: int = 1,
    ) -> Iterator[Document]:
        """`count` articles published over the last `years`; every `stride`-th one from number
        `start` (so that processes can share a corpus without making the same articles)."""
        codes, weights = zip(*(shares or SHARES).items(), strict=True)
        cumulative = list(itertools.accumulate(weights))
        now = datetime.now(UTC)
        for number in range(start, count, stride):
            rng = random.Random(self.seed * 1_000_003 + number)
            code = codes[min(len(codes) - 1, bisect.bisect(cumulative, rng.random() * cumulative[-1]))]
            yield self._document(code, rng, number, now, years)

    def _document(self, code: str, rng: random.Random, number: int, now: datetime, years: float) -> Document:
        language, pool = self.languages[code], self.sentences[code]
        title = " ".join(language.pick(rng, rng.randint(5, 11), content_only=True))
        lead = " ".join(rng.choices(pool, k=rng.randint(1, 3)))
        # Bodies of 150 to 1,500 words, about 500 on average, as news articles run.
        words = min(1500, max(150, int(rng.lognormvariate(6.1, 0.45))))
        body: list[str] = []
        paragraph: list[str] = []
        total = 0
        while total < words:
            sentence = rng.choice(pool)
            paragraph.append(sentence)
            total += sentence.count(" ") + 1
            if len(paragraph) >= rng.randint(2, 5):
                body.append(" ".join(paragraph))
                paragraph = []
        if paragraph:
            body.append(" ".join(paragraph))
        article_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        return Document(
            article_id=str(article_id),
            language=code,
            slug=f"{'-'.join(title.lower().split()[:6])}-{number}",
            title=title,
            lead=lead,
            body="\n".join(body),
            section=rng.choice(SECTIONS[code]),
            tags=rng.sample(TAGS[code], rng.randint(1, 4)),
            published_at=now - timedelta(seconds=rng.uniform(0, years * 365 * 86400)),
            version=2,
            config=config_for(code),
        )


def corpus(seed: int = 20220519, *, tail_size: int = 30_000, sentences: int = 100_000) -> Corpus:
    rng = random.Random(seed)
    languages = {code: _vocabulary(code, rng, tail_size) for code in SHARES}
    pools = {code: [_sentence(lang, rng) for _ in range(sentences)] for code, lang in languages.items()}
    return Corpus(languages, pools, seed)
