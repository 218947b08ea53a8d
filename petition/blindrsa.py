"""RSA blind signatures (RFC 9474, RSABSSA-SHA384) for anonymous yet verified petition signing.

Why this module exists: the server must certify that a signer is eligible without learning which
signature is theirs. The client blinds its message, the server signs it blind, the client unblinds
an ordinary RSASSA-PSS signature that anyone can verify against the petition's public key.

`cryptography` deliberately offers no raw RSA private operation. BlindSign therefore reaches
OpenSSL's own raw private operation (constant-time CRT exponentiation with OpenSSL's blinding)
through M2Crypto, a maintained OpenSSL binding, when it is installed (the `openssl` extra,
which `make setup` installs), and otherwise falls back to GMP's constant-time `powmod_sec` with
our own blinding, about half as fast. Both end with the s^e == m check. The client's
Blind/Finalize (used by tests, the CLI client and benchmarks) are implemented here; key
generation, serialization and the final PSS verification use `cryptography`. The product uses
RSABSSA-SHA384-PSS-Randomized (48-byte salt, 32-byte message prefix); salt length and prefix are
parameters so that all four RFC 9474 Appendix A vectors can be tested. No Django imports.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import secrets

import gmpy2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

try:
    from M2Crypto import RSA as _OpenSSLRSA
except ImportError:  # built without the `openssl` extra: the gmpy2 path below signs alone
    _OpenSSLRSA = None

# Which implementation signs: "openssl" (M2Crypto) when it is importable, else "gmpy2".
# Both are kept and tested against the RFC 9474 vectors (tests/petition/test_blindrsa.py).
BACKENDS = ("openssl", "gmpy2") if _OpenSSLRSA is not None else ("gmpy2",)
DEFAULT_BACKEND = BACKENDS[0]

HASH_LEN = 48  # SHA-384
SALT_LEN = 48  # PSS variant; PSSZERO uses 0
PREFIX_LEN = 32  # Randomized variant; Deterministic uses none
MIN_BITS = 2048

MESSAGE_TAG = b"countersign-v1\x00"
MESSAGE_LEN = len(MESSAGE_TAG) + 16 + 32 + 32  # 95


class BlindRSAError(Exception):
    """Base class for errors raised by this module."""


class InvalidInput(BlindRSAError, ValueError):
    """Input has the wrong length or is out of range (the API answers 400)."""


class SigningFault(BlindRSAError, RuntimeError):
    """The private operation produced a wrong result (hardware or software fault)."""


class VerificationError(BlindRSAError):
    """Finalize produced a signature that does not verify (the server misbehaved)."""


# --- keys -----------------------------------------------------------------------------------


def generate_private_key(bits: int = 3072) -> rsa.RSAPrivateKey:
    if bits < MIN_BITS:
        raise ValueError(f"RSA keys below {MIN_BITS} bits are refused")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_key_spki_der(public_key: rsa.RSAPublicKey) -> bytes:
    """SubjectPublicKeyInfo DER with OID rsaEncryption (what WebCrypto imports as RSA-PSS)."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_key: rsa.RSAPublicKey) -> bytes:
    return hashlib.sha256(public_key_spki_der(public_key)).digest()


def modulus_bits(public_key: rsa.RSAPublicKey) -> int:
    return public_key.key_size


def _mod_len(public_key: rsa.RSAPublicKey) -> int:
    return (public_key.key_size + 7) // 8


# --- client side ----------------------------------------------------------------------------


def prepare(msg: bytes, randomized: bool = True, prefix: bytes | None = None) -> bytes:
    """RFC 9474 Prepare: prepend a 32-byte random prefix (Randomized) or nothing."""
    if not randomized:
        if prefix is not None:
            raise ValueError("the Deterministic variant takes no prefix")
        return msg
    if prefix is None:
        prefix = secrets.token_bytes(PREFIX_LEN)
    if len(prefix) != PREFIX_LEN:
        raise ValueError(f"msg_prefix must be {PREFIX_LEN} bytes")
    return prefix + msg


def _mgf1_sha384(seed: bytes, length: int) -> bytes:
    out = b"".join(
        hashlib.sha384(seed + i.to_bytes(4, "big")).digest()
        for i in range(math.ceil(length / HASH_LEN))
    )
    return out[:length]


def _emsa_pss_encode(msg: bytes, em_bits: int, salt: bytes) -> bytes:
    """EMSA-PSS-ENCODE (RFC 8017 section 9.1.1) with SHA-384 and MGF1-SHA-384."""
    em_len = (em_bits + 7) // 8
    if em_len < HASH_LEN + len(salt) + 2:
        raise InvalidInput("modulus too small for this salt length")
    h = hashlib.sha384(b"\x00" * 8 + hashlib.sha384(msg).digest() + salt).digest()
    db = b"\x00" * (em_len - len(salt) - HASH_LEN - 2) + b"\x01" + salt
    masked = bytearray(a ^ b for a, b in zip(db, _mgf1_sha384(h, len(db)), strict=True))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)  # clear the bits above em_bits
    return bytes(masked) + h + b"\xbc"


def blind(
    public_key: rsa.RSAPublicKey,
    prepared_msg: bytes,
    salt_len: int = SALT_LEN,
    *,
    salt: bytes | None = None,
    r: int | None = None,
) -> tuple[bytes, bytes]:
    """RFC 9474 Blind: return (blinded_msg, inv). salt and r are injectable for test vectors."""
    nums = public_key.public_numbers()
    n, e, k = nums.n, nums.e, _mod_len(public_key)
    if salt is None:
        salt = secrets.token_bytes(salt_len)
    if len(salt) != salt_len:
        raise ValueError(f"salt must be {salt_len} bytes")
    # RFC 9474's pseudocode says bit_len(n), but its own vectors (and RSASSA-PSS-SIGN, whose
    # signatures we must produce) use emBits = bit_len(n) - 1; this also guarantees m < n.
    encoded = _emsa_pss_encode(prepared_msg, n.bit_length() - 1, salt)
    m = int.from_bytes(encoded, "big")
    if math.gcd(m, n) != 1:
        raise InvalidInput("encoded message not coprime to n")
    if r is None:
        while True:
            r = secrets.randbelow(n - 1) + 1
            if math.gcd(r, n) == 1:
                break
    if not 0 < r < n or math.gcd(r, n) != 1:
        raise ValueError("r must be in [1, n) and invertible mod n")
    inv = pow(r, -1, n)
    z = m * pow(r, e, n) % n
    return z.to_bytes(k, "big"), inv.to_bytes(k, "big")


def finalize(
    public_key: rsa.RSAPublicKey,
    prepared_msg: bytes,
    blind_sig: bytes,
    inv: bytes,
    salt_len: int = SALT_LEN,
) -> bytes:
    """RFC 9474 Finalize: unblind, then verify, so a bad server answer is caught right here."""
    n, k = public_key.public_numbers().n, _mod_len(public_key)
    if len(blind_sig) != k or len(inv) != k:
        raise InvalidInput("blind_sig and inv must be modulus-length")
    s = int.from_bytes(blind_sig, "big") * int.from_bytes(inv, "big") % n
    sig = s.to_bytes(k, "big")
    if not verify(public_key, prepared_msg, sig, salt_len):
        raise VerificationError("finalized signature does not verify")
    return sig


def verify(
    public_key: rsa.RSAPublicKey, prepared_msg: bytes, sig: bytes, salt_len: int = SALT_LEN
) -> bool:
    """Ordinary RSASSA-PSS verification (SHA-384, MGF1-SHA-384, exact salt length)."""
    if len(sig) != _mod_len(public_key):
        return False
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=salt_len)
    try:
        public_key.verify(sig, prepared_msg, pss, hashes.SHA384())
    except InvalidSignature:
        return False
    return True


# --- server side ----------------------------------------------------------------------------


class BlindSigner:
    """RFC 9474 BlindSign for one key, through OpenSSL (M2Crypto) or the gmpy2 fallback.

    Keep one per open key; drop it (and the key) when the petition closes.
    """

    def __init__(self, private_key: rsa.RSAPrivateKey, backend: str | None = None) -> None:
        self.backend = backend or DEFAULT_BACKEND
        if self.backend not in BACKENDS:
            raise ValueError(f"BlindSign backend {self.backend!r} is not available here")
        priv = private_key.private_numbers()
        self.n = gmpy2.mpz(priv.public_numbers.n)
        self.e = gmpy2.mpz(priv.public_numbers.e)
        self.mod_len = (private_key.key_size + 7) // 8
        if self.backend == "openssl":
            # The key crosses into OpenSSL as an unencrypted PEM in memory only, as the
            # decrypted DER it came from already does; nothing is written anywhere.
            pem = private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
            self._openssl = _OpenSSLRSA.load_key_string(pem)
        else:
            self._p, self._q = gmpy2.mpz(priv.p), gmpy2.mpz(priv.q)
            self._dp, self._dq = gmpy2.mpz(priv.dmp1), gmpy2.mpz(priv.dmq1)
            self._qinv = gmpy2.mpz(priv.iqmp)

    def sign(self, blinded_msg: bytes) -> bytes:
        if len(blinded_msg) != self.mod_len:
            raise InvalidInput(f"blinded_msg must be {self.mod_len} bytes")
        m = gmpy2.mpz(int.from_bytes(blinded_msg, "big"))
        if not 0 < m < self.n:
            raise InvalidInput("blinded_msg out of range (0 < m < n)")
        s = (
            self._private_op_openssl(blinded_msg)
            if self.backend == "openssl"
            else self._private_op_gmp(m)
        )
        # A fault in one CRT half would hand out s whose gcd with n reveals p (Boneh-DeMillo-
        # Lipton "Bellcore" attack); checking with the public exponent costs ~1% and blocks it.
        # OpenSSL checks its own CRT result too; this check does not depend on it.
        if gmpy2.powmod(s, self.e, self.n) != m:
            raise SigningFault("RSA-CRT result failed the s^e == m check")
        return int(s).to_bytes(self.mod_len, "big")

    def _private_op_openssl(self, blinded_msg: bytes) -> gmpy2.mpz:
        # RSA_private_encrypt with RSA_NO_PADDING is the raw m^d mod n. OpenSSL blinds the
        # input (RSA blinding is on for every key it loads) and exponentiates with its
        # constant-time Montgomery code under BN_FLG_CONSTTIME, the same path as its own
        # PSS signatures, which is why this runs near `cryptography`'s sign speed.
        try:
            out = self._openssl.private_encrypt(blinded_msg, _OpenSSLRSA.no_padding)
        except _OpenSSLRSA.RSAError as exc:
            raise SigningFault(f"OpenSSL refused the private operation: {exc}") from exc
        return gmpy2.mpz(int.from_bytes(out, "big"))

    def _private_op_gmp(self, m: gmpy2.mpz) -> gmpy2.mpz:
        # Base blinding: the client chooses m, and the reductions m mod p, m mod q below are
        # plain GMP arithmetic whose timing depends on their input. Signing u = m * r^e
        # instead (r random, fresh per call) makes that input independent of m; s = s_u / r.
        r = self._random_unit()
        u = m * gmpy2.powmod(r, self.e, self.n) % self.n
        # CRT is ~3-4x faster than one exponentiation mod n. powmod_sec (GMP mpz_powm_sec) runs
        # in time and memory-access pattern independent of the secret exponents dp and dq.
        s1 = gmpy2.powmod_sec(u % self._p, self._dp, self._p)
        s2 = gmpy2.powmod_sec(u % self._q, self._dq, self._q)
        s_u = s2 + (self._qinv * (s1 - s2) % self._p) * self._q
        return s_u * gmpy2.invert(r, self.n) % self.n

    def _random_unit(self) -> gmpy2.mpz:
        while True:
            r = gmpy2.mpz(secrets.randbelow(int(self.n) - 2) + 2)
            if gmpy2.gcd(r, self.n) == 1:
                return r


def blind_sign(private_key: rsa.RSAPrivateKey, blinded_msg: bytes) -> bytes:
    """One-shot BlindSign; use a long-lived BlindSigner when signing repeatedly with one key."""
    return BlindSigner(private_key).sign(blinded_msg)


# --- encodings and the protocol message -----------------------------------------------------

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding: one encoding per value, so lengths and logs are exact."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:  # non-zero trailing bits: a second spelling of the value
        raise ValueError("non-canonical base64url")
    return data


def nullifier(token: bytes) -> bytes:
    if len(token) != 32:
        raise ValueError("token must be 32 bytes")
    return hashlib.sha256(token).digest()


def build_message(petition_id: bytes, key_id: bytes, nullifier: bytes) -> bytes:
    if (len(petition_id), len(key_id), len(nullifier)) != (16, 32, 32):
        raise ValueError("petition_id, key_id, nullifier must be 16, 32, 32 bytes")
    return MESSAGE_TAG + petition_id + key_id + nullifier


def parse_message(msg: bytes) -> tuple[bytes, bytes, bytes]:
    """Split msg (without the 32-byte prepare prefix) into (petition_id, key_id, nullifier)."""
    if len(msg) != MESSAGE_LEN or not msg.startswith(MESSAGE_TAG):
        raise ValueError("not a countersign-v1 message")
    body = msg[len(MESSAGE_TAG) :]
    return body[:16], body[16:48], body[48:]
