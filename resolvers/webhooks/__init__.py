"""Webhooks: an integration subscribes to store events with a GraphQL selection of the payload; each event is
written to an outbox in the transaction of the write that caused it, and delivered, signed to the Standard
Webhooks specification, by a worker in every server process.

``events`` (what can be subscribed to, and what each needs), ``outbox`` (writing events), ``documents`` (a
subscription's GraphQL document, checked against the schema and the grant), ``subscriptions`` (create, update,
delete, rotate the secret), ``signing`` (secrets and signatures), ``schedule`` (when to retry), ``transport``
(the POST, through the callbacks' SSRF guard), ``worker`` (claim, render, send, record), ``deliveries`` (the
delivery log, redelivery, test deliveries).
"""
