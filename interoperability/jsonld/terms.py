"""JSON-LD terms: a user's @context against ciudad's own, by way of full IRIs.

ciudad stores the short names of its own context (the NGSI-LD core context
plus the Smart Data Models contexts of its domains). A request that brings
another context has each term *expanded* with it to an IRI and then
*compacted* with ciudad's context to the stored name; answers go the other
way. Two clients whose contexts give different names to one IRI therefore
see the same attribute. A term no context defines expands under the core
context's default vocabulary and is stored as it is; an IRI ciudad's context
has no name for is stored as the IRI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORE_CONTEXT_URLS = frozenset(
    {
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld",
    }
)
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
_CORE_IRI = "https://uri.etsi.org/ngsi-ld/"
CORE_PREFIX = "ngsi-ld"  # the core context's prefix for its IRIs
# Core terms that name attributes; structural members (value, observedAt...) are not terms.
_CORE_TERMS = {
    name: _CORE_IRI + name
    for name in ("location", "observationSpace", "operationSpace", "createdAt", "modifiedAt")
}
_BUNDLED_DIR = Path(__file__).parent / "contexts"
_SDM_DOMAINS = ("Environment", "Parking", "Streetlighting")
_SDM_URL = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"
SDM_CONTEXT_URLS = {
    _SDM_URL.format(domain): _BUNDLED_DIR / f"dataModel.{domain}.jsonld" for domain in _SDM_DOMAINS
}


class ContextError(ValueError):
    """A context document that cannot be used."""


@dataclass(frozen=True, slots=True)
class Context:
    """Term definitions (term -> IRI) and the vocabulary for undefined terms."""

    terms: Mapping[str, str] = field(default_factory=dict)
    vocab: str | None = None  # None: the core context's default vocabulary

    @property
    def vocabulary(self) -> str:
        return self.vocab or DEFAULT_VOCAB

    def expand(self, term: str) -> str:
        if term in self.terms:
            return self.terms[term]
        prefix, colon, suffix = term.partition(":")
        if colon and prefix in self.terms and not suffix.startswith("//"):
            return self.terms[prefix] + suffix
        if colon and prefix == CORE_PREFIX:
            return _CORE_IRI + suffix
        if colon:
            return term  # already an IRI (http://..., urn:...)
        return self.vocabulary + term

    def reverse(self) -> dict[str, str]:
        """IRI -> term; the first term wins when several name one IRI."""
        out: dict[str, str] = {}
        for term, iri in self.terms.items():
            out.setdefault(iri, term)
        return out

    def merged(self, later: Context) -> Context:
        return Context({**self.terms, **later.terms}, later.vocab or self.vocab)

    def under_core(self) -> Context:
        """This context as NGSI-LD applies it: the core context's terms cannot change."""
        return CORE.merged(self).merged(Context(CORE.terms))


CORE = Context(_CORE_TERMS)


def _iri(term: str, definition: Any, raw: Mapping[str, Any]) -> str | None:
    if isinstance(definition, dict):
        definition = definition.get("@id")
    if not isinstance(definition, str) or definition.startswith("@"):
        return None
    prefix, colon, suffix = definition.partition(":")
    # Compact IRIs ("sdm:LAeq") use prefixes of the same context.
    if colon and isinstance(raw.get(prefix), str) and not suffix.startswith("//"):
        return str(raw[prefix]) + suffix
    return definition


def parse_local_context(raw: Mapping[str, Any]) -> Context:
    """One context object (no remote references) -> term definitions."""
    if not isinstance(raw, Mapping):
        raise ContextError("a context must be a JSON object, a URL or a list of them")
    terms = {}
    for term, definition in raw.items():
        if term.startswith("@"):
            continue
        iri = _iri(term, definition, raw)
        if iri is not None:
            terms[term] = iri
    vocab = raw.get("@vocab")
    return Context(terms, vocab if isinstance(vocab, str) else None)


def bundled(url: str) -> Context | None:
    """The built-in context for a URL ciudad never fetches, or None."""
    if url in CORE_CONTEXT_URLS:
        return CORE
    path = SDM_CONTEXT_URLS.get(url)
    if path is None:
        return None
    return parse_local_context(json.loads(path.read_text(encoding="utf-8"))["@context"])


def platform_context() -> Context:
    """ciudad's own context: core, then each Smart Data Models domain (first one wins)."""
    merged = Context()
    for url in reversed(SDM_CONTEXT_URLS):
        context = bundled(url)
        assert context is not None
        merged = merged.merged(context)
    return merged.under_core()


@dataclass(frozen=True)
class TermMapper:
    """Names between one request's context and ciudad's stored names."""

    user: Context
    platform: Context
    _user_reverse: dict[str, str] = field(default_factory=dict)
    _platform_reverse: dict[str, str] = field(default_factory=dict)
    iris_only: bool = False  # names other than full IRIs are stored names already

    @classmethod
    def build(cls, user: Context, platform: Context) -> TermMapper:
        return cls(user, platform, user.reverse(), platform.reverse())

    @classmethod
    def own(cls, platform: Context) -> TermMapper:
        """For a request without a context (ciudad's names): a full IRI among its names
        becomes ciudad's name for it (a default-context IRI its bare term)."""
        reverse = platform.reverse()
        return cls(platform, platform, reverse, reverse, iris_only=True)

    def to_stored(self, term: str) -> str:
        if self.iris_only and "://" not in term:
            return term
        iri = self.user.expand(term)
        name = self._platform_reverse.get(iri)
        if name is not None:
            return name
        short = iri[len(DEFAULT_VOCAB) :] if iri.startswith(DEFAULT_VOCAB) else None
        # A short name the platform's context gives another IRI stays a full IRI.
        return short if short and self.platform.expand(short) == iri else iri

    def to_client(self, name: str) -> str:
        iri = self.platform.expand(name)
        term = self._user_reverse.get(iri)
        if term is not None:
            return term
        vocabulary = self.user.vocabulary
        if iri.startswith(vocabulary) and len(iri) > len(vocabulary):
            return iri[len(vocabulary) :]
        if iri.startswith(_CORE_IRI):  # the core context's prefix compacts what is left
            return f"{CORE_PREFIX}:{iri[len(_CORE_IRI) :]}"
        return iri
