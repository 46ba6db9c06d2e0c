"""Live feeds of simulated physical twins: the ``live`` service, its archive and its client.

``feeds`` simulates (river gauge, detector channels), ``archive`` keeps every observation
durably, ``service`` serves them behind hub authentication (run by the hub), ``client`` follows
them from Python::

    from catalogs.live import LiveFeed
    for observation in LiveFeed("river_gauge"):
        ...
"""

from catalogs.live.client import LiveFeed, LiveFeedError

__all__ = ["LiveFeed", "LiveFeedError"]
