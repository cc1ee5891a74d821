"""misbridge's pytest plugin (entry point ``pytest11``), for plugin authors' tests.

Fixtures:

- ``misbridge_school``: the built-in sample school as source records;
- ``misbridge_plugins``: a fresh plugin manager with every installed plugin.

The conformance suite itself is a base class: ``misbridge.testing.conformance``.
"""

from __future__ import annotations

import pytest

from misbridge.plugins import Plugins, get_plugin_manager
from misbridge.source import SourceSchool
from misbridge.testing.school import sample_school


@pytest.fixture
def misbridge_school() -> SourceSchool:
    return sample_school()


@pytest.fixture
def misbridge_plugins() -> Plugins:
    return get_plugin_manager()
