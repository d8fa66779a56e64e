"""notify.toml parsing: values normalised, mistakes named."""

from __future__ import annotations

from collections.abc import Mapping
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
    from notifier.lists.segments import resolve

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


# ---- every numeric key has a range; header-bound strings are one plain line -------------

BASE = '[sender]\nfrom = "Sec <sec@example.com>"\n'


def _numeric_keys(schema: Mapping[str, object], prefix: str = "") -> list[str]:
    keys = []
    for key, kind in schema.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(kind, dict):
            keys += _numeric_keys(kind, full)
        elif kind in ("int", "float", "rate", "duration"):
            keys.append(full)
    return keys


def test_every_numeric_key_has_a_documented_range() -> None:
    """No numeric setting is left unbounded, and the README states each range."""
    from notifier.settings import BOUNDS, SCHEMA

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for key in _numeric_keys(SCHEMA):
        assert key in BOUNDS, f"{key} has no range in settings.BOUNDS"
        assert f"`{key}`" in readme and BOUNDS[key].text in readme, f"README does not give {key}'s range"


@pytest.mark.parametrize(
    ("table", "line", "shown"),
    [
        ("[throttle]\nrate = nan", "[throttle] rate should be a rate from 1/h to 100000/s, not nan", 4),
        ("[throttle]\nrate = inf", "[throttle] rate should be a rate from 1/h to 100000/s, not inf", 4),
        ("[throttle]\nrate = -3", "[throttle] rate should be a rate from 1/h to 100000/s, not -3", 4),
        ('[throttle]\nrate = "1000000/s"', "not '1000000/s'", 4),
        ('[throttle]\nper_domain = "0.1/h"', "[throttle] per_domain should be a rate from 1/h", 4),
        ('[throttle]\ndomains = { "gmail.com" = nan }', "[throttle.domains] gmail.com should be a rate", 4),
        ("[throttle]\nconnections = 100000", "connections should be a whole number from 1 to 100", 4),
        ("[throttle]\nconnections = 0", "connections should be a whole number from 1 to 100, not 0", 4),
        ("[throttle]\nretry_base = -5", 'retry_base should be a duration from "10ms" to "24h", not -5', 4),
        ("[throttle]\nretry_base = 0", 'retry_base should be a duration from "10ms" to "24h", not 0', 4),
        ("[throttle]\nretry_max = nan", "retry_max should be a duration", 4),
        ('[throttle]\nretry_window = "400d"', 'retry_window should be a duration from 0 to "30d"', 4),
        ("[throttle]\nlinger = -inf", "linger should be a duration", 4),
        ("[ledger]\nlease = 0", 'lease should be a duration from "1s" to "1h"', 4),
        ("[dns]\ntimeout = nan", "[dns] timeout should be a number of seconds above 0 and at most 60", 4),
        ("[dns]\ntimeout = 0", "[dns] timeout should be a number of seconds above 0", 4),
        ("[dns]\ntimeout = 1e9", "not 1000000000.0", 4),
        ("[bounces]\nsoft_threshold = 0", "soft_threshold should be a whole number from 1 to 100", 4),
        ("[bounces]\nsoft_span = -1", 'soft_span should be a duration from 0 to "365d", not -1', 4),
        ("[serve]\nport = 70000", "[serve] port should be a port number from 1 to 65535, not 70000", 4),
        ("[serve]\nport = 0", "[serve] port should be a port number from 1 to 65535, not 0", 4),
        ("[schedule]\ngrace = nan", 'grace should be a duration from 0 to "365d"', 4),
    ],
)
def test_a_numeric_setting_out_of_range_names_key_line_and_range(
    tmp_path: Path, table: str, line: str, shown: int
) -> None:
    """nan, inf, negative and absurd values are refused with the line, the key and the range."""
    path = _write(tmp_path, BASE + table + "\n")
    with pytest.raises(ConfigError) as info:
        load(path, environ={})
    assert f"notify.toml:{shown}: " in str(info.value)
    assert line in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    "table",
    [
        '[throttle]\nrate = "100000/s"\nconnections = 100\nretry_base = "10ms"\nretry_window = 0\nlinger = 0',
        '[throttle]\nrate = "1/h"\nretry_base = "24h"\nretry_max = "7d"',
        "[serve]\nport = 65535\n[dns]\ntimeout = 60\n[bounces]\nsoft_threshold = 100",
    ],
)
def test_the_ends_of_each_range_are_accepted(tmp_path: Path, table: str) -> None:
    load(_write(tmp_path, BASE + table + "\n"), environ={})


def test_retry_max_shorter_than_retry_base_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + '[throttle]\nretry_base = "2h"\nretry_max = "1h"\n')
    with pytest.raises(
        ConfigError, match=r"notify.toml:5: \[throttle\] retry_max is shorter than retry_base"
    ):
        load(path, environ={})


@pytest.mark.parametrize(
    ("key", "setting"),
    [
        ("helo", 'helo = "relay.example.com\\r\\nRSET"'),
        ("helo", 'helo = "relay.example.com\\nMAIL FROM:<x@evil.example>"'),
        ("reply_to", 'reply_to = "a@example.com\\r\\nBcc: victim@example.org"'),
        ("bounce_domain", 'bounce_domain = "b.example.com\\r\\n"'),
        ("helo", 'helo = "relay\\u0000.example.com"'),
    ],
)
def test_a_line_break_in_a_header_bound_setting_is_refused(tmp_path: Path, key: str, setting: str) -> None:
    """Values that reach a header or an SMTP command must be one line: CR, LF and NUL are refused."""
    path = _write(tmp_path, BASE + setting + "\n")
    with pytest.raises(ConfigError) as info:
        load(path, environ={})
    message = str(info.value)
    assert f"notify.toml:3: [sender] {key} contains a line break or another control character" in message
    assert "one plain line" in info.value.hint


def test_a_line_break_in_the_from_display_name_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, '[sender]\nfrom = "Sec\\r\\nBcc: x@evil.example <sec@example.com>"\n')
    with pytest.raises(ConfigError, match=r"notify.toml:2: \[sender\] from contains a line break"):
        load(path, environ={})


def test_dkim_selector_and_public_url_are_header_bound(tmp_path: Path) -> None:
    bad_selector = BASE + '[dkim]\nselector = "s1\\r\\nX: y"\nkey = "k.pem"\n'
    with pytest.raises(ConfigError, match=r"notify.toml:4: \[dkim\] selector contains a line break"):
        load(_write(tmp_path, bad_selector), environ={})
    bad_url = BASE + '[serve]\npublic_url = "https://n.example.com/\\r\\nX: y"\n'
    with pytest.raises(ConfigError, match=r"notify.toml:4: \[serve\] public_url contains a line break"):
        load(_write(tmp_path, bad_url), environ={})


def test_a_nul_character_in_any_string_is_refused(tmp_path: Path) -> None:
    """A NUL in a path would end in a traceback deep inside the OS layer; refuse it at the key."""
    path = _write(tmp_path, BASE + '[lists]\nfiles = ["lists/a\\u0000.csv"]\n')
    with pytest.raises(ConfigError, match=r"notify.toml:4: \[lists\] files contains a NUL character"):
        load(path, environ={})


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("smtp://relay.example.com:70000", "port '70000' is not a port number from 1 to 65535"),
        ("smtp://relay.example.com:0", "port 0 is not a port a server listens on"),
        ("smtp://relay.example.com:x", "port 'x' is not a port number"),
        ("smtp://relay.example.com?timeout=nan", "timeout=nan must be a number of seconds above 0"),
        ("smtp://relay.example.com?timeout=-1", "timeout=-1 must be a number of seconds above 0"),
        (
            "smtp://relay.example.com?timeout=86400",
            "timeout=86400 must be a number of seconds above 0 and at most 3600",
        ),
        ("smtp://relay.example.com?helo=a%0d%0aRSET", "an option holds an encoded line break"),
    ],
)
def test_a_transport_url_out_of_range_names_key_and_line(tmp_path: Path, url: str, problem: str) -> None:
    path = _write(tmp_path, BASE + f'[transport]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as info:
        load(path, environ={})
    assert f"notify.toml:4: [transport] url '{url}': {problem}" in str(info.value)
    assert info.value.exit_code == 2


def test_a_transport_override_is_checked_too(tmp_path: Path) -> None:
    """--transport gets the same checks; the error names the option, since there is no line."""
    path = _write(tmp_path, BASE)
    with pytest.raises(ConfigError, match=r"--transport 'smtp://h:99999': port '99999' is not a port"):
        load(path, environ={}, transport_override="smtp://h:99999")


def test_a_ledger_url_port_out_of_range_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + '[ledger]\nurl = "postgresql://notify@db.example:123456/notify"\n')
    with pytest.raises(ConfigError, match=r"notify.toml:4: \[ledger\] url .*port '123456' is not a port"):
        load(path, environ={})
