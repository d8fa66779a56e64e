"""notify.toml parsing: values normalised, mistakes named."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.errors import ConfigError
from notifier.settings import config_path, key_lines, load, parse_duration, parse_rate


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("48h", 172800), ("7d", 604800), (12, 12), ("250ms", 0.25)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "rate"), [("50/s", 50), ("3000/min", 50), ("36000/h", 10), (20, 20)])
def test_rates(text: str | int, rate: float) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("bad", ["fast", "0/s", "-1", "10/week"])
def test_bad_rates_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        parse_rate(bad)


def test_key_lines_finds_tables_and_keys() -> None:
    text = '[a]\nx = 1\n\n[b.c]\n"quoted key" = 2\ny = """\nmulti\n"""\nz = 3\n'
    lines = key_lines(text)
    assert lines["a.x"] == 2 and lines["b.c.quoted key"] == 5 and lines["b.c.z"] == 9


def test_config_path_prefers_flag_then_environment() -> None:
    assert config_path("x.toml", {"NOTIFY_CONFIG": "y.toml"}) == Path("x.toml")
    assert config_path(None, {"NOTIFY_CONFIG": "y.toml"}) == Path("y.toml")
    assert config_path(None, {}) == Path("notify.toml")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_config_gets_safe_defaults(tmp_path: Path) -> None:
    s = load(_write(tmp_path, '[sender]\nfrom = "Sec <sec@example.com>"\n'), environ={})
    assert s.transport_url == "outbox:outbox"
    assert s.sender.bounce_domain == "example.com"
    assert s.throttle.retry_window == 48 * 3600
    assert s.ledger_path == tmp_path / "ledger.sqlite"


def test_missing_sender_is_an_error_with_a_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[sender\] from is missing") as info:
        load(_write(tmp_path, "[org]\nname = 'x'\n"), environ={})
    assert "security@example.com" in info.value.hint


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"notify.toml:3: not valid TOML"):
        load(_write(tmp_path, '[sender]\nfrom = "a@b.c"\nbroken = \n'), environ={})


def test_nameservers_from_environment_override_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[sender]\nfrom = "a@b.example"\n[dns]\nnameservers = ["10.0.0.1"]\n')
    assert load(path, environ={}).nameservers == ("10.0.0.1",)
    assert load(path, environ={"NOTIFY_NAMESERVERS": "127.0.0.1:5353"}).nameservers == ("127.0.0.1:5353",)


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, '[sender]\nfrom = "a@b.example"\n')
    with pytest.raises(ConfigError, match="NOTIFY_SECRET"):
        load(path, environ={"NOTIFY_SECRET": "short"})
    assert load(path, environ={"NOTIFY_SECRET": "x" * 40}).secret == b"x" * 40


def test_segment_syntax_errors_name_the_line(tmp_path: Path) -> None:
    from notifier.segments import resolve

    path = _write(tmp_path, '[sender]\nfrom = "a@b.example"\n[segments]\nbad = "recipient.country =="\n')
    s = load(path, environ={})
    with pytest.raises(ConfigError, match=r"notify.toml:4: segment 'bad'"):
        resolve("bad", s.segments, path=str(path), lines=s.segment_lines)


def test_dkim_key_path_comes_from_the_environment_when_set(tmp_path: Path) -> None:
    path = _write(tmp_path, '[sender]\nfrom = "a@b.example"\n[dkim]\nselector = "s1"\nkey = "in-file.pem"\n')
    in_file = load(path, environ={}).dkim
    assert in_file is not None and in_file.key == tmp_path / "in-file.pem"
    from_env = load(path, environ={"NOTIFY_DKIM_KEY": "/secure/k.pem"}).dkim
    assert from_env is not None and from_env.key == Path("/secure/k.pem") and from_env.domain == "b.example"


def test_dkim_without_a_selector_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, '[sender]\nfrom = "a@b.example"\n[dkim]\nkey = "k.pem"\n')
    with pytest.raises(ConfigError, match="needs both selector and key"):
        load(path, environ={})


def test_sending_ips_must_be_addresses(tmp_path: Path) -> None:
    path = _write(tmp_path, '[sender]\nfrom = "a@b.example"\nips = ["relay.example"]\n')
    with pytest.raises(
        ConfigError, match=r"notify.toml:3: \[sender\] ips: 'relay.example' is not an IP address"
    ):
        load(path, environ={})
