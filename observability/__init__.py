"""What the server tells its operators: log lines with a request id, security events, Prometheus metrics.

On the ground floor with ``settings`` and ``errors``: every room may emit an event or count something, and
this package imports none of them. ``logs`` holds the request id (a context variable set by
``middleware.RequestId``) and the log formats; ``events`` names the security events and counts them;
``metrics`` is the per-app Prometheus registry, its schema extension and the ``/metrics`` endpoint.
"""
