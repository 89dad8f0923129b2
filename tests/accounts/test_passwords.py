"""The password rules, the bundled list of common passwords and argon2id hashing."""

import pytest

from daemon.accounts.passwords import (
    MIN_LENGTH,
    PasswordRejected,
    check_rules,
    common_passwords,
    hash_password,
    verify_password,
)


def test_a_long_uncommon_password_passes() -> None:
    check_rules("wang.fang", "tea-kettle on the third shelf")


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-one", "at least"),
        ("x" * 129, "at most"),
        ("I am Wang.Fang, 2026!", "user name"),
        ("qwertyuiopasdfghjkl", "common"),
        ("Password123456!", "common"),
        ("ARCHIVEROOM2026", "common"),
        ("1qaz2wsx3edc", "common"),
    ],
)
def test_passwords_breaking_a_rule_are_refused_in_words(password: str, why: str) -> None:
    with pytest.raises(PasswordRejected, match=why):
        check_rules("wang.fang", password)


def test_the_common_list_is_bundled_and_holds_no_comments() -> None:
    common = common_passwords()
    assert "password" in common
    assert not any(p.startswith("#") for p in common)
    assert MIN_LENGTH == 12


def test_hashes_are_argon2id_salted_and_verify_only_the_right_password() -> None:
    first, second = (
        hash_password("tea-kettle on the shelf"),
        hash_password("tea-kettle on the shelf"),
    )
    assert first.startswith("$argon2id$")
    assert first != second
    assert verify_password(first, "tea-kettle on the shelf")
    assert not verify_password(first, "tea-kettle on the shelf!")
    assert not verify_password("not a hash", "tea-kettle on the shelf")
    assert not verify_password(None, "tea-kettle on the shelf")
