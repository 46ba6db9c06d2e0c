"""The ``dashboards`` service: twin notebooks published as applications for groups of users.

``registry`` keeps what is published (who owns it, who may open it, which version is current);
``service`` is the hub-managed web service: the gallery, the publishing API and access checks.
"""
