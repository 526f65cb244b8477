# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab-wide knobs of the emulator: a clock that tests can move, and thresholds.

The extension reads the time only through :data:`lab` so that activation expiry and agent ping
ages can be tested without waiting.  Times are naive UTC datetimes, as everywhere in moto.
"""

import datetime
import threading

from moto.core.utils import utcnow

#: SSM agents ping every 5 minutes; one missed ping plus some slack marks the node ConnectionLost.
DEFAULT_CONNECTION_LOST_AFTER = 600
#: What ``IsLatestVersion`` compares an instance's reported SSM agent version against.
DEFAULT_LATEST_SSM_AGENT_VERSION = "3.3.1957.0"
#: The region of the emulator's own host names (loopback, ``aws.lab.internal``), which name none.  None:
#: unknown, so a request that names no region either (the agent's anonymous registration) is matched
#: in whichever region holds its activation -- see ``SSMResponse._endpoint_region``.
DEFAULT_ENDPOINT_REGION = None


class LabSettings:
    """Mutable, thread-safe settings shared by every backend of one emulator process.

    ``reset()`` returns to the defaults, which a launcher may change with ``set_defaults()``.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._defaults = {
            "connection_lost_after_seconds": DEFAULT_CONNECTION_LOST_AFTER,
            "latest_ssm_agent_version": DEFAULT_LATEST_SSM_AGENT_VERSION,
            "endpoint_region": DEFAULT_ENDPOINT_REGION,
        }
        self.clock_offset = datetime.timedelta(0)
        self.connection_lost_after = None
        self.latest_ssm_agent_version = None
        self.endpoint_region = None
        self.reset()

    def set_defaults(self, **defaults):
        """Change what ``reset()`` returns to (and apply it now)."""
        unknown = set(defaults) - set(self._defaults)
        if unknown:
            raise TypeError("unknown settings: %s" % ", ".join(sorted(unknown)))
        self._defaults.update((key, value) for key, value in defaults.items() if value is not None)
        self.reset()

    def reset(self):
        with self._lock:
            self.clock_offset = datetime.timedelta(0)
            self.endpoint_region = None
        self.update(**self._defaults)

    def now(self):
        """The lab's current time (naive UTC): the real time plus the offset tests set."""
        return utcnow() + self.clock_offset

    def advance(self, seconds):
        with self._lock:
            self.clock_offset += datetime.timedelta(seconds=seconds)

    def update(self, connection_lost_after_seconds=None, latest_ssm_agent_version=None, endpoint_region=None):
        """Change settings; None leaves one as it is, and ``endpoint_region=""`` makes it unknown again."""
        with self._lock:
            if endpoint_region is not None:
                self.endpoint_region = endpoint_region or None
            if connection_lost_after_seconds is not None:
                if connection_lost_after_seconds <= 0:
                    raise ValueError("connection_lost_after_seconds must be positive")
                self.connection_lost_after = datetime.timedelta(seconds=connection_lost_after_seconds)
            if latest_ssm_agent_version is not None:
                self.latest_ssm_agent_version = str(latest_ssm_agent_version)

    def describe(self):
        return {
            "now": self.now().isoformat() + "Z",
            "clock_offset_seconds": self.clock_offset.total_seconds(),
            "connection_lost_after_seconds": self.connection_lost_after.total_seconds(),
            "latest_ssm_agent_version": self.latest_ssm_agent_version,
            "endpoint_region": self.endpoint_region,
        }


lab = LabSettings()
