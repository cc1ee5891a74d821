"""The hub: the integrator's service for remote extraction (``misbridge hub``).

An integrator's user with the ``import-data`` permission starts an extract for a
school; the school's agent (``misbridge agent``, on the school's own machine, calling
out only) hears of it by long poll, runs the extract locally, and uploads it sealed to
that user's public key; the hub keeps the ciphertext against a single-use retrieval
key until the integrator downloads it, checks it and acknowledges it.

Only :mod:`misbridge.hub.protocol` and :mod:`misbridge.hub.envelope` are light (the
agent uses them); everything else needs the ``misbridge[hub]`` extra. Start with
:func:`misbridge.hub.app.create_app` or ``misbridge hub serve``; integrators use
:class:`misbridge.hub.client.IntegratorClient`. See docs/hub.md and docs/hub-protocol.md.
"""
