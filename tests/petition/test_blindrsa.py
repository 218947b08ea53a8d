"""RFC 9474 vectors and edge cases for petition.blindrsa (no database needed)."""

import json
import os
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # so the file also runs outside the project's rootdir
    sys.path.insert(0, str(REPO_ROOT))

from petition import blindrsa  # noqa: E402

VECTORS_PATH = Path(
    os.environ.get("COUNTERSIGN_VECTORS")
    or REPO_ROOT / "tests" / "data" / "rfc9474-test-vectors.json"
)
VECTORS = json.loads(VECTORS_PATH.read_text())
assert len(VECTORS) == 4


def _h(vector: dict, field: str) -> bytes:
    return bytes.fromhex(vector[field])


def _key(vector: dict) -> rsa.RSAPrivateKey:
    n, e, d = (int(vector[f], 16) for f in ("n", "e", "d"))
    p, q = int(vector["p"], 16), int(vector["q"], 16)
    public = rsa.RSAPublicNumbers(e, n)
    return rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
    ).private_key()


@pytest.fixture(scope="module")
def fresh_key() -> rsa.RSAPrivateKey:
    return blindrsa.generate_private_key(2048)


# Both BlindSign implementations run every test below. OpenSSL's (M2Crypto, the `openssl`
# extra) is installed by `make setup`; its absence here is a broken setup, not a skip.
BACKENDS = ("openssl", "gmpy2")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    assert request.param in blindrsa.BACKENDS, (
        f"BlindSign backend {request.param!r} is not installed: run `make setup` "
        "(the openssl extra needs swig, a C compiler and libssl-dev)"
    )
    return request.param


def test_the_faster_backend_is_the_default() -> None:
    assert blindrsa.BACKENDS[0] == blindrsa.DEFAULT_BACKEND == "openssl"


def test_unknown_backend_is_refused(fresh_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="not available"):
        blindrsa.BlindSigner(fresh_key, backend="openssl-2")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_rfc9474_vector(vector: dict, backend: str) -> None:
    key = _key(vector)
    pub = key.public_key()
    n = pub.public_numbers().n
    salt = _h(vector, "salt")
    randomized = vector["name"].endswith("-Randomized")
    assert len(salt) == (48 if "-PSS-" in vector["name"] else 0)

    prefix = _h(vector, "msg_prefix") if randomized else None
    prepared = blindrsa.prepare(_h(vector, "msg"), randomized=randomized, prefix=prefix)
    assert prepared == _h(vector, "prepared_msg")

    r = pow(int(vector["inv"], 16), -1, n)
    blinded, inv = blindrsa.blind(pub, prepared, len(salt), salt=salt, r=r)
    assert inv == _h(vector, "inv")
    assert blinded == _h(vector, "blinded_msg")

    blind_sig = blindrsa.BlindSigner(key, backend=backend).sign(blinded)
    assert blind_sig == _h(vector, "blind_sig")
    assert blindrsa.blind_sign(key, blinded) == blind_sig

    sig = blindrsa.finalize(pub, prepared, blind_sig, inv, len(salt))
    assert sig == _h(vector, "sig")
    assert blindrsa.verify(pub, prepared, sig, len(salt))


def test_encoded_msg_uses_embits_bitlen_minus_one() -> None:
    vector = VECTORS[0]
    pub = _key(vector).public_key()
    em_bits = pub.key_size - 1
    encoded = blindrsa._emsa_pss_encode(_h(vector, "prepared_msg"), em_bits, _h(vector, "salt"))
    assert encoded == _h(vector, "encoded_msg")


def test_verify_rejects_flipped_bit_and_wrong_salt_length() -> None:
    vector = VECTORS[0]
    pub = _key(vector).public_key()
    prepared, sig = _h(vector, "prepared_msg"), bytearray(_h(vector, "sig"))
    assert blindrsa.verify(pub, prepared, bytes(sig))
    assert not blindrsa.verify(pub, prepared, bytes(sig), salt_len=0)
    assert not blindrsa.verify(pub, prepared[:-1] + bytes([prepared[-1] ^ 1]), bytes(sig))
    sig[100] ^= 0x10
    assert not blindrsa.verify(pub, prepared, bytes(sig))
    assert not blindrsa.verify(pub, prepared, bytes(sig[1:]))


def test_finalize_raises_on_bad_blind_sig() -> None:
    vector = VECTORS[0]
    pub = _key(vector).public_key()
    bad = bytearray(_h(vector, "blind_sig"))
    bad[-1] ^= 1
    with pytest.raises(blindrsa.VerificationError):
        blindrsa.finalize(pub, _h(vector, "prepared_msg"), bytes(bad), _h(vector, "inv"))


def test_blind_sign_rejects_bad_input(fresh_key: rsa.RSAPrivateKey, backend: str) -> None:
    signer = blindrsa.BlindSigner(fresh_key, backend=backend)
    n = fresh_key.public_key().public_numbers().n
    k = signer.mod_len
    assert k == 256
    for bad in (
        b"\x01" * (k - 1),  # too short
        b"\x01" * (k + 1),  # too long
        b"",
        bytes(k),  # m == 0
        n.to_bytes(k, "big"),  # m == n
        (n + 1).to_bytes(k, "big"),  # m > n
        b"\xff" * k,  # m > n
    ):
        with pytest.raises(blindrsa.InvalidInput):
            signer.sign(bad)
    with pytest.raises(ValueError):  # InvalidInput is a ValueError
        blindrsa.blind_sign(fresh_key, bytes(k))
    assert len(signer.sign((n - 1).to_bytes(k, "big"))) == k
    assert len(signer.sign((1).to_bytes(k, "big"))) == k


def test_blind_sign_detects_fault(fresh_key: rsa.RSAPrivateKey) -> None:
    signer = blindrsa.BlindSigner(fresh_key, backend="gmpy2")
    signer._dp += 2  # simulate a corrupted CRT half
    with pytest.raises(blindrsa.SigningFault):
        signer.sign((12345).to_bytes(signer.mod_len, "big"))


def test_openssl_result_is_checked_too(fresh_key: rsa.RSAPrivateKey) -> None:
    # A wrong result from the OpenSSL side (here: another key of the same size behind the
    # signer's back) must fail our own s^e == m check, not go out.
    signer = blindrsa.BlindSigner(fresh_key, backend="openssl")
    signer._openssl = blindrsa.BlindSigner(
        blindrsa.generate_private_key(2048), backend="openssl"
    )._openssl
    with pytest.raises(blindrsa.SigningFault):
        signer.sign((12345).to_bytes(signer.mod_len, "big"))


def test_backends_agree_on_fresh_key(fresh_key: rsa.RSAPrivateKey) -> None:
    # Raw RSA is deterministic: both implementations must give the same bytes.
    n = fresh_key.public_key().public_numbers().n
    signers = [blindrsa.BlindSigner(fresh_key, backend=b) for b in BACKENDS]
    for value in (1, 2, n // 3, n - 1):
        outputs = {s.sign(value.to_bytes(256, "big")) for s in signers}
        assert len(outputs) == 1


def test_round_trip_fresh_key(fresh_key: rsa.RSAPrivateKey) -> None:
    pub = fresh_key.public_key()
    kid = blindrsa.key_id(pub)
    assert len(kid) == 32
    assert blindrsa.modulus_bits(pub) == 2048
    token = os.urandom(32)
    msg = blindrsa.build_message(os.urandom(16), kid, blindrsa.nullifier(token))
    prepared = blindrsa.prepare(msg)
    assert len(prepared) == 32 + 95
    blinded, inv = blindrsa.blind(pub, prepared)
    blind_sig = blindrsa.BlindSigner(fresh_key).sign(blinded)
    sig = blindrsa.finalize(pub, prepared, blind_sig, inv)
    assert blindrsa.verify(pub, prepared, sig)
    # Two blindings of the same message look unrelated to the signer.
    assert blindrsa.blind(pub, prepared)[0] != blinded


def test_generate_refuses_small_keys() -> None:
    with pytest.raises(ValueError):
        blindrsa.generate_private_key(1024)


def test_spki_der_is_rsa_encryption(fresh_key: rsa.RSAPrivateKey) -> None:
    der = blindrsa.public_key_spki_der(fresh_key.public_key())
    assert bytes.fromhex("06092a864886f70d0101010500") in der  # OID 1.2.840.113549.1.1.1, NULL


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff\xfe", b"abc", bytes(range(256))])
def test_b64url_round_trip(data: bytes) -> None:
    text = blindrsa.b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert blindrsa.b64url_decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "YQ==",  # padding
        "YQ=",
        "YR",  # non-zero trailing bits (canonical is "YQ")
        "YWJ",  # non-canonical 3-char form (canonical "YWI")
        "Y",  # impossible length
        "a+b/",  # standard alphabet
        "ab c",
        "abc\n",
        "ab\u00e9d",
    ],
)
def test_b64url_decode_is_strict(text: str) -> None:
    with pytest.raises(ValueError):
        blindrsa.b64url_decode(text)


def test_build_and_parse_message() -> None:
    pid, kid, nul = b"P" * 16, b"K" * 32, blindrsa.nullifier(b"t" * 32)
    msg = blindrsa.build_message(pid, kid, nul)
    assert len(msg) == 95
    assert msg.startswith(b"countersign-v1\x00")
    assert blindrsa.parse_message(msg) == (pid, kid, nul)
    with pytest.raises(ValueError):
        blindrsa.parse_message(msg[:-1])
    with pytest.raises(ValueError):
        blindrsa.parse_message(b"countersign-v2\x00" + msg[15:])
    with pytest.raises(ValueError):
        blindrsa.build_message(pid[:-1], kid, nul)
    with pytest.raises(ValueError):
        blindrsa.nullifier(b"short")
