"""Which answers may be cached, and which callers may share one.

An answer is **shareable** when the operation that ran is a query, asks for no introspection, and every guarded
field it selects is a ``@guestAccess`` field (or one of the few ``@public`` fields that answer alike to everyone,
``SHARED_PUBLIC_FIELDS``): catalog, CMS and store data, never personal data (``viewer``, ``rateLimit``, customers,
orders, integrations, settings). Unguarded nested fields belong to their parent's data (the start-up audit makes
a field that leads to other data carry that data's rule), so the guarded fields decide. Errors are decided per
request: an answer with any error is never cached.

Callers are grouped into **caller classes**; one class shares one cached answer per (document, operation,
variables, data version):

- ``GUEST``: guests, and every caller that reaches each guest-eligible resource only through guest access (it
  holds none of them). For a shareable document such a caller passes exactly the same decisions as a guest
  (``auth.rules.decide``: allowed while Allow Anonymous Guest Access is on, refused otherwise) and gets the guest's
  data filter for every resource a resolver filters by (``Principal.sees_as_guest``), so its answer is the guest's
  answer, byte for byte. Only this class's answers are ``Cache-Control: public``.
- otherwise the exact set of resources the caller holds: an admin or an integration holding some guest-eligible
  resource sees more (disabled products, inactive categories), and shares answers only with callers holding the
  same grant. Resources are read with the credentials on every request, so a changed grant is a new class at once.

Guest access and every other setting are in the data version (``models.data_version``; every config write bumps
it), so an answer never outlives the decision it was computed under.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

from graphql import OperationType, parse

from auth.enforcement import AccessPolicy
from auth.principal import Principal
from models.data_version import EVERYTHING
from schema.introspection import asks_for_schema

#: ``@public`` fields whose answer depends on the document alone, never on who asks.
SHARED_PUBLIC_FIELDS = frozenset({"Query.requiredResources", "Query.requiredAccess"})

#: The caller class of guests and of callers that see guest-eligible data as guests do.
GUEST = "guest"

#: ``GUEST``, or the resources held.
CallerClass = str | frozenset[str]


@dataclasses.dataclass(frozen=True, slots=True)
class Sharing:
    """Whether a document's successful answers may be cached, and the cache tags they carry."""

    shareable: bool
    #: The resource ids of the data it reads, and ``EVERYTHING``, space-separated: what a write purges its answers by
    #: (``xkey``). One string per document, shared by its answers.
    tags: str = ""


NOT_SHAREABLE = Sharing(False)


class CachePolicy:
    """The schema's caller classes and a bounded per-document cache of ``Sharing``."""

    def __init__(self, access: AccessPolicy, size: int = 512) -> None:
        self.access = access
        rules = access.table.rules.values()
        #: Every resource some ``@guestAccess`` field names: holding none of them makes a caller guest-alike.
        self.guest_resources = frozenset(resource for rule in rules if rule.guest for resource in rule.resources)
        self._sharing: OrderedDict[tuple[str, str | None], Sharing] = OrderedDict()
        self._size = size

    def caller_class(self, principal: Principal) -> CallerClass:
        if principal.is_guest or all(principal.sees_as_guest(r) for r in self.guest_resources):
            return GUEST
        return principal.resources

    def sharing(self, query: str, operation_name: str | None) -> Sharing:
        """Whether the answers of ``query``'s operation ``operation_name`` may be cached (asked only for a document
        that has just run without errors, so it parses)."""
        key = (query, operation_name)
        found = self._sharing.get(key)
        if found is not None:
            self._sharing.move_to_end(key)
            return found
        found = self._decide(query, operation_name)
        self._sharing[key] = found
        if len(self._sharing) > self._size:
            self._sharing.popitem(last=False)
        return found

    def _decide(self, query: str, operation_name: str | None) -> Sharing:
        document = parse(query)
        analysis = self.access.analyse(query, document, operation_name)
        if analysis.operation is not OperationType.QUERY or asks_for_schema(document, operation_name):
            return NOT_SHAREABLE
        rules = [self.access.table.rules[coordinate] for coordinate in analysis.coordinates]
        if not all(rule.guest or rule.coordinate in SHARED_PUBLIC_FIELDS for rule in rules):
            return NOT_SHAREABLE
        tags = dict.fromkeys(resource for rule in rules for resource in rule.resources)
        return Sharing(True, " ".join((*tags, EVERYTHING)))
