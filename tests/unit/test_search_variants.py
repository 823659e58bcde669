"""Spellings readers type: umlauts as two letters, transliterated names, compound parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumers.search.additions import additions_of
from consumers.search.compounds import Dictionary, Splitter
from consumers.search.document import GERMAN, Document
from consumers.search.settings import SearchSettings
from consumers.search.variants import umlaut_spelling, variant_key, words_of


def test_two_letter_umlauts_are_spelled_as_umlauts_but_diphthongs_and_qu_are_not() -> None:
    """`ue` after a consonant is an umlaut (Luxusgueter); after q or a vowel it is not (Quelle, Steuer)."""
    assert umlaut_spelling("Luxusgueter") == "Luxusgüter"
    assert umlaut_spelling("Oesterreich") == "Österreich"
    assert umlaut_spelling("Buergermeisterin") == "Bürgermeisterin"
    assert umlaut_spelling("Quelle") is None
    assert umlaut_spelling("Steuer") is None
    assert umlaut_spelling("neue") is None
    assert umlaut_spelling("Putin") is None


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Schoigu", "Shoigu"),
        ("Gerassimow", "Gerasimov"),
        ("Selenskyj", "Zelensky"),
        ("Selenskyj", "Zelenskyy"),
        ("Lawrow", "Lavrov"),
        ("Nawalny", "Navalny"),
        ("Medwedew", "Medvedev"),
        ("Jelzin", "Yeltsin"),
        ("Sergej", "Sergei"),
        ("Tschernobyl", "Chernobyl"),
        ("Charkiw", "Kharkiv"),
        ("Chodorkowski", "Khodorkovsky"),
        ("Putin", "Poutine"),
        ("Luxusgueter", "Luxusgüter"),
    ],
)
def test_transliterations_of_one_name_share_a_key(one: str, other: str) -> None:
    """German, English and French spellings of a Russian or Ukrainian name map to one key."""
    assert variant_key(one) == variant_key(other)


def test_different_names_keep_different_keys() -> None:
    """The rules unite spellings, not names: Putin is not Peskow, Lawrow is not Lukaschenko."""
    keys = {
        variant_key(name) for name in ("Putin", "Peskow", "Lawrow", "Lukaschenko", "Schoigu", "Selenskyj")
    }
    assert len(keys) == 6


def test_words_of_a_text_are_distinct_bounded_and_know_whether_always_capitalised() -> None:
    """A name is written with a capital everywhere; a word once written in lower case is no name."""
    found = words_of("Schoigu sagte: Die Truppen. die Truppen von Schoigu", limit=10)
    by_word = {w.word: w for w in found}
    assert list(by_word) == ["schoigu", "sagte", "die", "truppen", "von"]
    assert by_word["schoigu"].capitalised
    assert by_word["truppen"].capitalised
    assert not by_word["die"].capitalised
    assert by_word["schoigu"].spelling == "Schoigu"
    assert len(words_of("eins zwei drei vier", limit=2)) == 2


def test_a_hunspell_dictionary_is_read_with_its_suffix_rules(tmp_path: Path) -> None:
    """Stems and the forms their suffix flags make (with strip and condition) become words."""
    (tmp_path / "xx.aff").write_text(
        "SET UTF-8\nSFX S Y 1\nSFX S 0 s .\nSFX J Y 2\nSFX J en ung en\nSFX J 0 ung [^n]\n", encoding="utf-8"
    )
    (tmp_path / "xx.dic").write_text("3\nWerk/S\nregieren/J\nStahl\n", encoding="utf-8")

    words = Dictionary.read(tmp_path / "xx.dic").words

    assert words == {"werk", "werks", "regieren", "regierung", "stahl"}


def test_compounds_split_into_dictionary_words_with_their_linking_elements(tmp_path: Path) -> None:
    """Sanktion|s|paket and Stahl|werks split; words the dictionary does not know do not."""
    (tmp_path / "xx.aff").write_text("SET UTF-8\n", encoding="utf-8")
    (tmp_path / "xx.dic").write_text("4\nSanktion\nPaket\nStahl\nWerk\n", encoding="utf-8")
    splitter = Splitter(tmp_path / "xx.dic")

    assert splitter.parts("Sanktionspaket") == ["sanktion", "paket"]
    assert splitter.parts("Stahlwerks") == ["stahl", "werks"]
    assert splitter.parts("Stahlwerkpaket") == ["stahl", "werk", "paket"]
    assert splitter.parts("Schoigu") == []
    assert splitter.parts("Paket") == []


def test_without_a_dictionary_nothing_is_split() -> None:
    """A missing dictionary file means no compound parts, not an error."""
    splitter = Splitter(Path("no-such-dictionary.dic"))
    assert not splitter.available
    assert splitter.parts("Sanktionspaket") == []


def test_the_packaged_german_dictionary_splits_news_compounds() -> None:
    """With Debian's hunspell-de-de (installed by `make test`): the compounds of the issue split."""
    path = SearchSettings().search_compound_dictionary
    assert path is not None
    splitter = Splitter(path)
    assert splitter.available, f"{path} is missing: make search-dictionary"

    assert splitter.parts("Sanktionspaket") == ["sanktion", "paket"]
    assert splitter.parts("Stahlwerks") == ["stahl", "werks"]
    assert splitter.parts("Bundesregierung") == ["bund", "regierung"]
    assert splitter.parts("Russland") == []


def test_a_german_document_gains_compound_parts_runs_and_umlaut_spellings(tmp_path: Path) -> None:
    """Not|strom|aggregat adds its parts and `notstrom`; `Oesterreich` adds `österreich`;
    an English document gains nothing, whatever its words."""
    (tmp_path / "xx.aff").write_text("SET UTF-8\n", encoding="utf-8")
    (tmp_path / "xx.dic").write_text("3\nNot\nStrom\nAggregat\n", encoding="utf-8")
    splitter = Splitter(tmp_path / "xx.dic")

    def doc(language: str, config: str) -> Document:
        return Document(
            article_id="a",
            language=language,
            slug="s",
            title="Notstromaggregat in Oesterreich",
            lead="",
            body="",
            section=None,
            tags=[],
            published_at=None,
            version=1,
            config=config,
        )

    german = additions_of(doc("de", GERMAN), splitter)
    english = additions_of(doc("en", "search.english"), splitter)

    assert german.extra.split() == ["not", "strom", "aggregat", "notstrom", "stromaggregat", "österreich"]
    assert english.extra == ""
    assert [w.word for w in english.words] == ["notstromaggregat", "oesterreich"]
    assert [w.word for w in german.headline] == ["notstromaggregat", "oesterreich"]
