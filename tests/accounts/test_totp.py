"""RFC 6238 one-time codes, with the RFC's own test vectors and a fixed clock."""

import base64

import pytest

from daemon.accounts import totp

SHA1_KEY = b"12345678901234567890"
SHA256_KEY = b"12345678901234567890123456789012"
SHA512_KEY = b"1234567890" * 6 + b"1234"

# RFC 6238 Appendix B: (time, SHA1, SHA256, SHA512), eight digits
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("t", "sha1", "sha256", "sha512"), VECTORS)
def test_rfc_6238_test_vectors(t: int, sha1: str, sha256: str, sha512: str) -> None:
    step = totp.step_at(t)
    assert totp.hotp(SHA1_KEY, step, digits=8) == sha1
    assert totp.hotp(SHA256_KEY, step, digits=8, digest="sha256") == sha256
    assert totp.hotp(SHA512_KEY, step, digits=8, digest="sha512") == sha512


def test_six_digit_code_is_the_last_six_of_the_rfc_value() -> None:
    secret = base64.b32encode(SHA1_KEY).decode()
    assert totp.code_at(secret, 59) == "287082"
    assert totp.code_at(secret, 1111111109) == "081804"


SECRET = base64.b32encode(SHA1_KEY).decode()
NOW = 1111111111.0  # a fixed clock: step 37037037


def test_a_code_is_accepted_one_step_either_side_and_no_further() -> None:
    now_step = totp.step_at(NOW)
    for offset in (-1, 0, 1):
        code = totp.code_at(SECRET, NOW + offset * totp.STEP_S)
        assert totp.matching_step(SECRET, code, NOW) == now_step + offset
    for offset in (-2, 2):
        code = totp.code_at(SECRET, NOW + offset * totp.STEP_S)
        assert totp.matching_step(SECRET, code, NOW) is None


def test_a_used_code_is_refused_the_second_time() -> None:
    code = totp.code_at(SECRET, NOW)
    used = totp.matching_step(SECRET, code, NOW)
    assert used is not None
    assert totp.matching_step(SECRET, code, NOW, after=used) is None
    later = totp.code_at(SECRET, NOW + totp.STEP_S)
    assert totp.matching_step(SECRET, later, NOW, after=used) == used + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_match_nothing(code: str) -> None:
    assert totp.matching_step(SECRET, code, NOW) is None


def test_spaces_in_a_typed_code_are_ignored() -> None:
    code = totp.code_at(SECRET, NOW)
    assert totp.matching_step(SECRET, f"{code[:3]} {code[3:]}", NOW) == totp.step_at(NOW)


def test_new_secrets_are_random_base32_of_160_bits() -> None:
    a, b = totp.new_secret(), totp.new_secret()
    assert a != b
    assert len(base64.b32decode(a)) == 20


def test_the_uri_names_the_issuer_and_the_account() -> None:
    uri = totp.uri("ABCDEF", account="wang fang")
    assert uri.startswith("otpauth://totp/archroom%3Awang%20fang?secret=ABCDEF&issuer=archroom")
