"""OAuth 1.0a provider on oauthlib, wire-compatible with Magento's integration clients; one step per module.

Signatures are always checked with oauthlib. Around it, this package adds what Magento clients expect and
what oauthlib leaves to the provider:

- ``problems``: Magento's error texts (``oauth_problem=...``) and its 400/401 split, reported in Magento's
  order of checks;
- ``params``: the protocol parameters, read once from the Authorization header, and the checks that need no
  database, timestamps both ways (±600 s) against ``auth.clock`` among them;
- ``credentials``: consumer, token, integration, grant and the few config values the checks need, read with
  one raw SQL join; unknown consumer keys and tokens are verified against dummy secrets, so they take as
  long as known ones;
- ``validator``: those credentials handed to oauthlib through a per-request validator, so that the token
  steps run oauthlib inline;
- ``signed_requests``: signed API calls, the hot path, go straight to oauthlib's signature functions;
- ``nonces``: a nonce recorded only after the signature verifies, unique per consumer in the database, so
  that a replay is refused even when it reaches another worker process;
- ``endpoints``: ``POST /oauth/token/request`` and ``/oauth/token/access``; ``tokens``: the token row they
  and activation turn from verifier to request to access token; ``authenticators``: the OAuth and
  integration-bearer schemes of ``auth.middleware.PrincipalMiddleware``.
"""
