"""The deploy check that warns when BlindSign runs on the slower gmpy2 fallback."""

from config.checks import blind_sign_backend
from petition import blindrsa


def test_no_warning_when_openssl_signs() -> None:
    assert blindrsa.DEFAULT_BACKEND == "openssl"
    assert blind_sign_backend() == []


def test_warns_on_the_fallback(monkeypatch) -> None:
    monkeypatch.setattr(blindrsa, "DEFAULT_BACKEND", "gmpy2")
    [warning] = blind_sign_backend()
    assert warning.id == "countersign.W002"
    assert "openssl" in warning.hint
