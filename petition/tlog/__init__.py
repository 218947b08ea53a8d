"""The public log as a C2SP transparency log (issue 16): RFC 6962 Merkle tree, signed
checkpoints, tiles and witness cosignatures. See docs/protocol.md, "Transparency log"."""
