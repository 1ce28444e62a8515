"""The browser side's static files (the admin console and GraphiQL), shipped as package data."""
