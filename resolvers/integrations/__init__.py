"""Integrations (System > Extensions > Integrations), one module per question."""
