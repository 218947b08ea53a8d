"""countersign_audit: an independent auditor and witness for a Countersign transparency log.

This package is deliberately a SECOND implementation of the log's formats (RFC 6962 hashing,
C2SP signed-note, tlog-checkpoint, tlog-tiles, tlog-cosignature, tlog-witness, and
Countersign's entry encoding v1). It imports nothing of the Countersign server (`petition/`,
`organizing/`) and shares no code with it: a bug shared by the server and its auditor would
hide itself. It needs only the Python standard library and `cryptography`.

Run it as `python -m countersign_audit check https://host` with `tools/` on the path; see
docs/audit.md.
"""

__version__ = "1.0.0"
