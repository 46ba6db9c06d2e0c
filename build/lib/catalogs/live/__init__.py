"""Live feeds of simulated physical twins: the ``live`` service, its archive and its client.

``feeds`` simulates (river gauge, detector channels), ``archive`` keeps every observation
durably, ``service`` serves them behind hub authentication (run by the hub), ``client`` follows
them from Python::

    from catalogs.live import LiveFeed
    for observation in LiveFeed("river_gauge"):
        ...
"""

__all__ = ["LiveFeed", "LiveFeedError"]


def __getattr__(name: str):
    # On first use (PEP 562): the service runs without the client's requests and pandas.
    if name in __all__:
        from catalogs.live import client

        return getattr(client, name)
    raise AttributeError(f"module 'catalogs.live' has no attribute {name!r}")
