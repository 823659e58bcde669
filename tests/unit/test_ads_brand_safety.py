"""Brand safety on real text: the shipped term lists, as an advertiser's rules would see them."""

from __future__ import annotations

from functools import cache

import pytest

from cms.events.contract import Article
from consumers.ads import brand_safety
from consumers.ads.brand_safety import BrandSafety, Lexicon, TermFile
from tests.unit.ads_samples import RECIPE_DE, RECIPE_FR, SPORT_DE, SPORT_EN, article, paragraphs, stabschefs


@cache
def _shipped() -> BrandSafety:
    return brand_safety.load()


def test_the_german_fixture_is_sensitive_for_military_conflict() -> None:
    """A report on the war in Ukraine: not for an airline's banner, but not a floor violation."""
    verdict = _shipped().assess(stabschefs())

    assert verdict.level == "sensitive"
    assert "military_conflict" in verdict.categories
    # Found through inflections and compounds, not only the listed forms.
    assert {"Kriegsbeginn", "Einmarsch", "Invasion", "Waffenstillstand"} <= set(
        verdict.evidence["military_conflict"]
    )


@pytest.mark.parametrize("sample", [SPORT_DE, SPORT_EN], ids=["bundesliga", "premier-league"])
def test_a_sports_report_is_safe_despite_its_battle_vocabulary(sample: Article) -> None:
    """Angriff, Schuss, Verteidiger, Abwehrschlacht, "killer pass", "fired a shot"."""
    verdict = _shipped().assess(sample)

    assert verdict.level == "safe"
    assert verdict.categories == ()


@pytest.mark.parametrize("sample", [RECIPE_DE, RECIPE_FR], ids=["rouladen", "tarte-tatin"])
def test_a_recipe_is_safe(sample: Article) -> None:
    """Messer, "ein Schuss Rotwein", Waffel, couteau."""
    assert _shipped().assess(sample).level == "safe"


def test_a_term_in_the_title_weighs_more_than_the_same_term_deep_in_the_body() -> None:
    """Krieg in a headline makes the page sensitive; the same word once in the body leaves it safe."""
    in_title = article(title="Krieg um die Wasserrechte", body=paragraphs("Ein Bericht aus dem Tal."))
    in_body = article(title="Streit um die Wasserrechte", body=paragraphs("Manche sprechen von Krieg."))

    assert _shipped().assess(in_title).categories == ("military_conflict",)
    assert _shipped().assess(in_body).level == "safe"


def test_german_inflections_and_compounds_match_through_stemming() -> None:
    """Plurals, genitives and compounds find the listed German term they are built on."""
    lexicon = _shipped().lexicons["de"]
    found = {
        written: term.words
        for written, term in lexicon.find(
            "Luftangriffen Kriegsbeginns Wasserleichen Todesopfern Invasionen Terroristen Bombenanschlags"
        )
    }

    assert found == {
        "Luftangriffen": "Luftangriff",
        "Kriegsbeginns": "Kriegsbeginn",
        "Wasserleichen": "Leiche",
        "Todesopfern": "Todesopfer",
        "Invasionen": "Invasion",
        "Terroristen": "Terrorist",
        "Bombenanschlags": "Anschlag",
    }


def test_compound_matching_does_not_find_terms_inside_unrelated_words() -> None:
    """ "Ausgleich" ends in the stem of "Leiche", "Termine" in "Mine", "Waffeleisen" starts with
    "Waffe": none is a hit."""
    lexicon = _shipped().lexicons["de"]

    assert lexicon.find("Ausgleich Termine Waffeleisen Vergleich Kalorienbombe Raubtiere") == []


def test_graphic_terms_make_a_page_unsafe() -> None:
    """A massacre with mutilated bodies is unsafe for ads, under both conflict and death categories."""
    massacre = article(
        title="Massaker in einem Dorf: Dutzende Tote",
        lead="Augenzeugen berichten von verstümmelten Leichen.",
    )
    verdict = _shipped().assess(massacre)

    assert verdict.level == "unsafe"
    assert {"military_conflict", "death_and_injury"} <= set(verdict.categories)


@pytest.mark.parametrize(
    ("language", "title", "category"),
    [
        ("en", "Troops advance as the invasion enters its third week", "military_conflict"),
        ("fr", "Attentat à Lyon : un terroriste présumé interpellé", "terrorism"),
        ("en", "Police seize cocaine worth millions in drug trafficking raid", "drugs"),
        ("fr", "Séisme en Turquie : le bilan des victimes s'alourdit", "disasters"),
        ("de", "Volksverhetzung: Anklage gegen Neonazis", "hate_speech"),
    ],
)
def test_each_language_names_the_category_of_a_headline(language: str, title: str, category: str) -> None:
    """English, French and German headlines each make the page sensitive under the right category."""
    verdict = _shipped().assess(article(language=language, title=title))

    assert verdict.level == "sensitive"
    assert category in verdict.categories


def test_a_language_without_a_term_list_is_not_vouched_for() -> None:
    """An article in a language without a term list is sensitive and marked as not assessed, never safe."""
    verdict = _shipped().assess(article(language="pl", title="Przepis na pierogi"))

    assert (verdict.level, verdict.assessed) == ("sensitive", False)


def test_every_category_has_terms_in_every_shipped_language() -> None:
    """Every category has terms in German, English and French, so none goes unseen in a language."""
    for language in ("de", "en", "fr"):
        lexicon = _shipped().lexicons[language]
        listed = {term.category for terms in lexicon.single.values() for term in terms}
        assert listed == set(brand_safety.CATEGORIES), language


def test_a_word_listed_in_two_kinds_of_one_category_is_refused() -> None:
    """ "Tote" (strong) and "toten" (weak) are one stem: the list would contradict itself."""
    source = TermFile.model_validate(
        {"stemmer": "german", "categories": {"death_and_injury": {"strong": ["Tote"], "weak": ["toten"]}}}
    )

    with pytest.raises(ValueError, match="one word to the stemmer"):
        Lexicon.build("de", source)


def test_an_idiom_hides_only_its_own_words() -> None:
    """ "War of words" says nothing about war; the war it is about still counts."""
    lexicon = _shipped().lexicons["en"]

    assert lexicon.find("A war of words broke out in parliament.") == []
    found = lexicon.find("A war of words over the war in Sudan.")
    assert [(written, term.category) for written, term in found] == [("war", "military_conflict")]


def test_an_ambiguous_term_counts_as_weak_only_where_its_context_is_evident() -> None:
    """ "Katastrophe" in a relegation report is the sport's word; without sport around it, a disaster."""
    sport = article(
        title="Katastrophe für Schalke",
        body=paragraphs("Nach der Niederlage steht der Verein auf einem Abstiegsplatz, der Trainer wackelt."),
    )
    no_context = article(title="Katastrophe im Tal", body=paragraphs("Die Lage bleibt unübersichtlich."))

    assert (_shipped().assess(sport).level, _shipped().assess(sport).contexts) == ("safe", ("sport",))
    assert _shipped().assess(no_context).categories == ("disasters",)


def test_the_section_makes_its_context_evident() -> None:
    """Filed under sport, "le massacre de Lille" is a rout; under world news, a massacre."""
    text = {"language": "fr", "title": "Le massacre de Lille", "body": paragraphs("Un dimanche noir.")}

    assert _shipped().assess(article(section="sport", **text)).level == "safe"
    assert _shipped().assess(article(section="monde", **text)).level == "unsafe"


def test_an_unambiguous_term_counts_in_full_in_any_context() -> None:
    """A missile on a stadium is war news, however many football words surround it."""
    report = article(
        language="en",
        section="sport",
        title="Missile hits stadium before the match",
        body=paragraphs("The club postponed the league fixture, and the coach sent the players home."),
    )
    verdict = _shipped().assess(report)

    assert (verdict.level, verdict.categories) == ("sensitive", ("military_conflict",))
    assert verdict.contexts == ("sport",)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"contexts": {"sport": {"cues": ["Tor"], "ambiguous": ["Angriffe"]}}}, "no listed term"),
        ({"idioms": ["Krieg der Sterne"]}, None),
        ({"idioms": ["Schuss in den Ofen"]}, "nothing to neutralise"),
    ],
    ids=["ambiguous-unlisted", "idiom-ok", "idiom-without-term"],
)
def test_a_context_or_idiom_that_names_no_listed_term_is_refused(
    extra: dict[str, object], message: str | None
) -> None:
    """A typo in the data would silently change nothing: the lexicon refuses it at load."""
    krieg = {"military_conflict": {"strong": ["Krieg"]}}
    source = TermFile.model_validate({"stemmer": "german", "compounds": True, "categories": krieg, **extra})

    if message is None:
        assert Lexicon.build("de", source).find("Krieg der Sterne") == []
    else:
        with pytest.raises(ValueError, match=message):
            Lexicon.build("de", source)
