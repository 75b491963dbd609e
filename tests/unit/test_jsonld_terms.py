"""JSON-LD term expansion and compaction between a user's context and ciudad's."""

from __future__ import annotations

from interoperability.jsonld.middleware import rewrite_body
from interoperability.jsonld.terms import (
    DEFAULT_VOCAB,
    Context,
    TermMapper,
    parse_local_context,
    platform_context,
)

SDM_ENV = "https://smartdatamodels.org/dataModel.Environment/"


def mapper(raw: dict[str, object]) -> TermMapper:
    return TermMapper.build(parse_local_context(raw).under_core(), platform_context())


def test_the_platform_context_itself_maps_names_to_themselves() -> None:
    same = TermMapper.build(platform_context(), platform_context())
    for name in ("LAeq", "NoiseLevelObserved", "location", "anything", "http://x.org/a"):
        assert same.to_stored(name) == name
        assert same.to_client(name) == name


def test_a_context_without_a_platform_term_means_another_attribute() -> None:
    core_only = TermMapper.build(Context().under_core(), platform_context())
    assert core_only.to_stored("LAeq") == DEFAULT_VOCAB + "LAeq"
    assert core_only.to_client("LAeq") == SDM_ENV + "LAeq"
    assert core_only.to_stored("custom") == "custom"


def test_terms_go_through_their_iri_both_ways() -> None:
    m = mapper({"sdm": SDM_ENV, "ruido": "sdm:LAeq", "Nivel": {"@id": SDM_ENV + "LAmax"}})
    assert m.to_stored("ruido") == "LAeq"
    assert m.to_stored("Nivel") == "LAmax"
    assert m.to_client("LAeq") == "ruido"
    # Undefined terms fall under the default vocabulary, like the platform's own.
    assert m.to_stored("custom") == "custom"
    assert m.to_client("LAS") == SDM_ENV + "LAS"  # the user's context has no name for it


def test_a_vocabulary_and_foreign_iris() -> None:
    m = mapper({"@vocab": "http://example.org/"})
    assert m.to_stored("humidity") == "http://example.org/humidity"
    assert m.to_client("http://example.org/humidity") == "humidity"
    # a name of the default vocabulary, which this context does not use, compacts with the
    # core context's prefix (as JSON-LD compaction does) and reads back the same
    assert m.to_client("custom") == "ngsi-ld:default-context/custom"
    assert m.to_stored("ngsi-ld:default-context/custom") == "custom"


def test_core_terms_cannot_be_redefined() -> None:
    m = mapper({"location": "http://example.org/place"})
    assert m.to_stored("location") == "location"


def test_the_platform_context_prefers_the_environment_domain_on_conflicts() -> None:
    assert platform_context().expand("refDevice") == SDM_ENV + "refDevice"


def test_bodies_rename_types_and_attributes_but_not_attribute_types() -> None:
    def rename(name: str) -> str:
        return name.upper()

    entity = {"id": "urn:x", "type": "t", "a": {"type": "Property", "value": 1}}
    assert rewrite_body("/ngsi-ld/v1/entities", entity, rename) == {
        "id": "urn:x",
        "type": "T",
        "A": {"type": "Property", "value": 1},
    }
    attribute = {"type": "Property", "value": 1}
    assert rewrite_body("/ngsi-ld/v1/entities/urn:x/attrs/a", attribute, rename) == attribute
    batch_result = {"success": ["urn:x"], "errors": [{"entityId": "urn:y", "error": {}}]}
    assert (
        rewrite_body("/ngsi-ld/v1/entityOperations/upsert", batch_result, rename, answer=True)
        == batch_result
    )
    entities = [entity, entity]
    assert (
        rewrite_body("/ngsi-ld/v1/entities", entities, rename, answer=True)
        == [rewrite_body("/ngsi-ld/v1/entities", entity, rename)] * 2
    )
    subscription = {
        "entities": [{"type": "t"}],
        "watchedAttributes": ["a"],
        "q": "a>1;b",
        "notification": {"attributes": ["a"]},
    }
    assert rewrite_body("/ngsi-ld/v1/subscriptions", subscription, rename) == {
        "entities": [{"type": "T"}],
        "watchedAttributes": ["A"],
        "q": "A>1;B",
        "notification": {"attributes": ["A"]},
    }
