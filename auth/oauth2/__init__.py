"""OAuth 2.0 client credentials (RFC 6749 section 4.4) beside Magento's OAuth 1.0a, on oauthlib's
``BackendApplicationServer``; one step per module, as ``auth.oauth`` is.

- ``clients``: the integration behind a client id (its consumer key), read with one raw SQL join, and how the
  client authenticated (HTTP Basic or ``client_secret_post``);
- ``scopes``: a requested scope (ACL resource ids) against the integration's grant: least privilege per token;
- ``validator``: oauthlib's ``RequestValidator`` over what was read beforehand, so oauthlib runs inline;
- ``tokens``: opaque bearer tokens, stored only as hashes; the bearer lookup of ``auth.middleware`` that
  turns one into the integration's principal, narrowed to the token's scope;
- ``endpoints``: ``POST /oauth2/token``, ``/oauth2/revoke`` (RFC 7009), ``/oauth2/introspect`` (RFC 7662) and
  ``GET /.well-known/oauth-authorization-server`` (RFC 8414).

The client secret is the integration's consumer secret; during a rotation's overlap the previous one works too
(``auth.oauth.credentials.overlap_secret``).
"""
