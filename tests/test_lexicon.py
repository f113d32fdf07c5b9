"""Tests for analysis.lexicon: the actor YAML schema, loading and validation."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import pandas as pd
import pytest
from test_mentions import _seed_paragraphs, find_mentions, found, paras

from analysis.errors import InputError
from analysis.lexicon import DEFAULT_ACTORS_PATH, load_actors
from analysis.paths import DATA_DIR, PROJECT_ROOT

EXAMPLE_YAML = DATA_DIR / "actors.example.yaml"


def test_default_lexicon():
    lex = load_actors()
    assert lex.actors == ("Russia", "China", "West")
    assert str(DEFAULT_ACTORS_PATH) in lex.sources
    assert DEFAULT_ACTORS_PATH.is_file()


def _write(tmp_path: Path, body: str, name: str = "actors.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_example_user_file_adds_ukraine():
    lex = load_actors(EXAMPLE_YAML)
    assert lex.actors == ("Russia", "China", "West", "Ukraine")
    m = find_mentions(paras("La guerre russo-ukrainienne ; Kyiv et Zelensky."), EXAMPLE_YAML)
    assert ("Ukraine", "russo-ukrainienne") in set(zip(m["actor"], m["surface"]))
    assert ("Russia", "russo") in set(zip(m["actor"], m["surface"]))


def test_adding_actors_never_changes_other_actors(seed_path, tmp_path):
    # added actors whose aliases overlap existing ones (longer and shorter)
    extra = _write(tmp_path, """\
        actors:
          Media:
            aliases: [Washington Post, "Poutine a", {regex: 'sino'}]
          Europe:
            aliases: [Union européenne, Europe, Bruxelles, {regex: 'occidental\\w*'}]
        """)
    texts = list(_seed_paragraphs(seed_path)["text"]) + [
        "Le Washington Post et Washington ; l'Union européenne à Bruxelles.",
        "Poutine a vu Xi ; les sino-américains.",
    ]
    p = paras(*texts)
    base = find_mentions(p)
    for actors in (extra, EXAMPLE_YAML):
        ext = find_mentions(p, actors)
        keep = ext[ext["actor"].isin(["Russia", "China", "West"])].reset_index(drop=True)
        pd.testing.assert_frame_equal(keep, base)
    assert len(find_mentions(p, extra).query("actor == 'Europe'")) >= 3


def test_user_file_extends_replaces_and_standalone(tmp_path):
    f = _write(tmp_path, """\
        actors:
          Russia:
            replace: true
            aliases: [Moscovie]
        """)
    assert found("Moscovie et Poutine", "fr", f) == {("Russia", "Moscovie")}
    g = _write(tmp_path, """\
        extends: none
        actors:
          Taiwan:
            aliases: [{text: Taïwan, case: proper}, 台湾]
        """, "alone.yaml")
    assert load_actors(g).actors == ("Taiwan",)
    assert found("Taïwan et Pékin ; 台湾", "fr", g) == {("Taiwan", "Taïwan"), ("Taiwan", "台湾")}


@pytest.mark.parametrize(("body", "pattern"), [
    ("actors:\n  Ukraine:\n    aliases: [Kyiv\n", r"actors\.yaml:\d+:\d+: invalid YAML"),
    ("actors:\n  Ukraine:\n    aliases:\n      - {text: Kyiv, colour: blue}\n",
     r"actors\.yaml:4: actor 'Ukraine', alias #1: unknown field 'colour'"),
    ("actors:\n  Ukraine:\n    aliases:\n      - Kyiv\n      - {regex: 'Kyi(v'}\n",
     r"actors\.yaml:5: actor 'Ukraine', alias #2: field 'regex': invalid regular expression"),
    ("actors:\n  Ukraine:\n    aliases:\n      - {text: Kyiv, case: upper}\n",
     r"actors\.yaml:4: actor 'Ukraine', alias #1: field 'case' must be one of"),
    ("actors:\n  Ukraine:\n    aliases: []\n", r"actors\.yaml:3: actor 'Ukraine': field 'aliases' must be a non-empty list"),
    ("actors:\n  Ukraine:\n    alias: [Kyiv]\n", r"actors\.yaml:3: actor 'Ukraine': unknown field 'alias'"),
    ("actors:\n  Ukraine:\n    aliases:\n      - {text: Kyiv, regex: Kiev}\n", r"exactly one of the fields 'text' and 'regex'"),
    ("actors:\n  Ukraine:\n    aliases:\n      - {regex: 'x?'}\n", r"matches the empty string"),
    ("actors:\n  Ukraine:\n    aliases:\n      - {text: Kyiv, lang: French}\n", r"field 'lang'"),
    ("compounds:\n  - {text: russo-ukrainien, actors: [Russia, Ukrain]}\n",
     r"actors\.yaml:2: compound #1: field 'actors' names unknown actor 'Ukrain'"),
    ("compounds:\n  - {text: russo-ukrainien}\n", r"compound #1: field 'actors'.*required"),
    ("actor:\n  Ukraine: {}\n", r"actors\.yaml:1: unknown top-level field 'actor'"),
    ("actors:\n  Ukraine:\n    aliases: [Kyiv]\n  Ukraine:\n    aliases: [Kiev]\n", r"actors\.yaml:.*line 4: duplicate key 'Ukraine'"),
    ("- just\n- a list\n", r"must be a mapping"),
    ("", r"is empty"),
    ("extends: maybe\nactors: {}\n", r"actors\.yaml:1: field 'extends'"),
    ("actors:\n  Ukraine:\n    aliases:\n      - {text: Kyiv, not_followed_by: '(['}\n", r"field 'not_followed_by'"),
])
def test_malformed_user_file(tmp_path, body, pattern):
    path = _write(tmp_path, body)
    with pytest.raises(InputError, match=pattern):
        load_actors(path)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_actors(tmp_path / "nope.yaml")
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="UTF-8"):
        load_actors(bad)


def test_named_groups_rejected(tmp_path):
    path = _write(tmp_path, "actors:\n  X:\n    aliases:\n      - {regex: '(?P<n>Kyiv)'}\n")
    with pytest.raises(InputError, match="named groups"):
        load_actors(path)


def test_project_root_layout():
    assert (PROJECT_ROOT / "analysis" / "data" / "actors.yaml").is_file()


def test_actor_name_differing_only_in_case_warns(tmp_path):
    path = _write(tmp_path, """\
        actors:
          Ukraine:
            aliases: [Kyiv]
          russia:
            aliases: [Moscovie]
        """)
    with pytest.warns(UserWarning, match=r"actors\.yaml:4: actor 'russia' differs from actor 'Russia' only in case"):
        lex = load_actors(path)
    assert lex.actors == ("Russia", "China", "West", "Ukraine", "russia")
    alone = _write(tmp_path, "extends: none\nactors:\n  Taiwan:\n    aliases: [Taipei]\n  TAIWAN:\n    aliases: [Taipeh]\n",
                   "alone.yaml")
    with pytest.warns(UserWarning, match=r"alone\.yaml:5: actor 'TAIWAN' differs from actor 'Taiwan' only in case"):
        load_actors(alone)


def test_extending_an_actor_by_its_own_name_does_not_warn(tmp_path):
    path = _write(tmp_path, "actors:\n  Russia:\n    aliases: [Moscovie]\n  Ukraine:\n    aliases: [Kyiv]\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_actors(path).actors == ("Russia", "China", "West", "Ukraine")
