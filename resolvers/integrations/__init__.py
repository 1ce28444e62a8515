"""Integrations (System > Extensions > Integrations), one module per question.

``validation``: is this input acceptable? ``grants``: what may an integration use, and who may change
that? ``service``: create, update, delete, find and list. ``loaders``: grants and credentials, batched
per request. ``activation``: how an integration gets its access token. ``callback``: how the server
reaches a callback URL safely. ``config_file``: integrations declared in the integrations file.
"""
