"""What makes two names the same name: the key the database keeps unique for integrations, roles and users.

A leaf module: validation (resolvers/) and sign-in (auth/) compare names the same way.
"""

from __future__ import annotations

import unicodedata


def name_key(name: str) -> str:
    """A name compatibility-normalised (NFKC), case-folded, spaces collapsed.

    "Café" and "Cafe\u0301", "Élan" and "élan", "ERP" and a full-width "\uff25\uff32\uff30", "ERP  Sync" and
    "ERP Sync" (a page shows them alike) share a key. The database keeps keys unique, so neither a race nor
    Unicode can make twins. Case-folding can undo normalisation, hence the second pass (Unicode's
    recommended ``NFKC(casefold(NFKC(s)))``). User names compare the same way: as in Magento, whose
    database compares them ignoring case, "Admin" signs in as "admin" and cannot be a second user.
    """
    return " ".join(unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).split())
