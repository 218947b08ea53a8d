"""The demo's Celery broker: kombu's file-system transport, one file per message in `var/`.

`make run` starts what production runs (web, a Celery worker and beat; scripts/run_demo.py)
on a broker that needs no server of its own. Of the two kombu offers without one, the file
system beats SQLAlchemy on SQLite: no new dependency, no third process writing SQLite files
beside the demo database, and the waiting messages are plain files anyone can look at.

What the app relies on works on it: ETA and countdown (the milestone outbox retries with
`countdown`) are held by the worker, whatever the transport; `acks_late` is kept by kombu's
virtual transports in the worker's memory and the message is put back in the folder when the
worker stops; beat only sends messages. Not supported: a visibility timeout (a message taken
by a worker that is then killed with SIGKILL is gone, where Redis would hand it out again
after `visibility_timeout`). The beat sweeps cover that as in production: undelivered notices
are resent, due batches published. Good enough for a demo on one machine, not for production,
which keeps Redis (config/settings/production.py, check countersign.E002).

Two fixes over kombu's own transport, in `_put`: it creates the message file under its
final name and then writes to it, so a worker listing the folder in between takes an empty
file and fails to decode it; here a message is written under a name no queue matches and
then renamed, which is atomic on one file system. And its file names (milliseconds, then a
random id) put messages sent in the same millisecond in random order; here they sort in the
order sent.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from time import time_ns

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

# A name kombu's `_get` never matches: it takes the part after the first dot as the queue.
PARTIAL_SUFFIX = ".partial"


def transport_options(root: Path) -> dict:
    """Where the messages and the exchange tables live, all under `root`."""
    messages = str(root / "messages")
    return {
        # One folder both ways: every process sends to and reads from the same queue files.
        "data_folder_in": messages,
        "data_folder_out": messages,
        "control_folder": str(root / "control"),
    }


class Channel(filesystem.Channel):
    def __init__(self, connection, **kwargs):
        super().__init__(connection, **kwargs)
        # kombu expects the folders to exist; the demo's var/ starts empty.
        for folder in (self.data_folder_in, self.data_folder_out, self.control_folder):
            Path(folder).mkdir(parents=True, exist_ok=True)

    def _put(self, queue, payload, **kwargs):
        # Zero-padded nanoseconds of the wall clock: names sort in the order sent (kombu's
        # milliseconds put two messages of the same millisecond in random order), and still
        # after a reboot, which restarts the monotonic clock kombu uses.
        name = f"{time_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f"{PARTIAL_SUFFIX}-{uuid.uuid4()}")
        try:
            with open(partial, "wb") as out:
                out.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
