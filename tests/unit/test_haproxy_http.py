"""The rollout's haproxy HTTP endpoint without a running haproxy: the config it writes (and that Debian's haproxy 2.6
accepts it: `haproxy -c`), weights refused before anything is sent, and the runtime API's answers parsed (texts as
haproxy 2.6 answers them; anything else is an ExternalToolError)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infractl.adapters import haproxy
from infractl.errors import ExternalToolError, UsageError

SERVERS = [("stable", "127.0.0.1", 18091, 90), ("canary", "127.0.0.1", 18092, 10)]

# answers of haproxy 2.6.12 (shortened to the columns that matter where the format allows)
SERVERS_STATE = (
    "1\n"
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight\n"
    "3 api 1 stable 127.0.0.1 2 0 75 90\n"
    "3 api 2 canary 127.0.0.1 2 0 25 10\n"
    "\n"
)
STAT = (
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,weight\n"
    "api,stable,0,0,3,5,,120,UP,75\n"
    "api,canary,1,1,2,2,,40,UP 1/2,25\n"
    "\n"
)


def test_the_config_balances_by_weight_checks_readiness_and_retries(tmp_path: Path) -> None:
    sock = tmp_path / "proxy.sock"
    text = haproxy.http_config(18080, SERVERS, sock, inter_ms=250)
    lines = [line.strip() for line in text.splitlines()]
    for expected in (
        "mode http",
        "bind 127.0.0.1:18080",
        "backend api",
        "balance roundrobin",
        "server stable 127.0.0.1:18091 weight 90 check",
        "server canary 127.0.0.1:18092 weight 10 check",
        "option httpchk",
        "http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1",
        "http-check expect status 200",
        f"stats socket '{sock}' mode 600 level admin",
        "retries 3",
        "option redispatch 1",
        "retry-on conn-failure empty-response response-timeout",
        "http-request disable-l7-retry unless idempotent || keyed",
        "option http-buffer-request",
    ):
        assert expected in lines, expected
    assert any(line.startswith("default-server inter 250 ") for line in lines)
    assert not any("shutdown-sessions" in line for line in lines)  # a check never cuts a request
    cfg = tmp_path / "proxy.cfg"
    cfg.write_text(text)
    haproxy.check_config(cfg)  # the real haproxy accepts it


def test_a_config_haproxy_refuses_is_an_external_tool_error(tmp_path: Path) -> None:
    cfg = tmp_path / "proxy.cfg"
    cfg.write_text(haproxy.http_config(18080, SERVERS, tmp_path / "s.sock") + "    balance nonsense\n")
    with pytest.raises(ExternalToolError):
        haproxy.check_config(cfg)


def test_another_check_path_and_weight_zero(tmp_path: Path) -> None:
    servers = [("stable", "127.0.0.1", 18091, 100), ("canary", "127.0.0.1", 18092, 0)]
    text = haproxy.http_config(18080, servers, tmp_path / "s.sock", check_path="/livez")
    assert "uri /livez " in text and "server canary 127.0.0.1:18092 weight 0 check" in text
    cfg = tmp_path / "proxy.cfg"
    cfg.write_text(text)
    haproxy.check_config(cfg)


@pytest.mark.parametrize("weight", [-1, 101, 2.5, True, "50"])
def test_a_config_with_a_bad_weight_is_refused(tmp_path: Path, weight: object) -> None:
    servers = [("stable", "127.0.0.1", 18091, weight)]
    with pytest.raises(UsageError, match="whole percent from 0 to 100"):
        haproxy.http_config(18080, servers, tmp_path / "s.sock")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("servers", "check_path", "message"),
    [
        ([], "/readyz", "at least one server"),
        ([SERVERS[0], SERVERS[0]], "/readyz", "distinct names"),
        ([("a b", "127.0.0.1", 1, 1)], "/readyz", "server names are"),
        (SERVERS, "readyz", "check_path"),
        (SERVERS, "/ready z", "check_path"),
    ],
)
def test_a_bad_config_input_is_refused(tmp_path: Path, servers, check_path: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        haproxy.http_config(18080, servers, tmp_path / "s.sock", check_path=check_path)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"canary": -1}, "whole percent"),
        ({"canary": 101}, "whole percent"),
        ({"canary": 10.0}, "whole percent"),
        ({"canary": False}, "whole percent"),
        ({"canary": 10, "blue": 90}, "no server blue in backend api"),
    ],
)
def test_bad_weights_are_refused_before_anything_is_sent(tmp_path: Path, weights, message: str) -> None:
    # the socket does not exist: had anything been sent, this would be an ExternalToolError (no socket)
    runtime = haproxy.Runtime(tmp_path / "absent.sock", servers=["stable", "canary"])
    with pytest.raises(UsageError, match=message):
        runtime.set_weights(weights)


def test_a_missing_socket_is_named(tmp_path: Path) -> None:
    runtime = haproxy.Runtime(tmp_path / "absent.sock")
    with pytest.raises(ExternalToolError, match=r"no socket .*absent\.sock"):
        runtime.weights()
    with pytest.raises(ExternalToolError, match="no socket"):
        runtime.sessions()


def test_a_socket_path_too_long_for_unix_gets_a_short_one(tmp_path: Path) -> None:
    long_base = tmp_path / ("x" * 120)
    path = haproxy._socket_path(long_base, "rollout-proxy")
    assert len(os.fsencode(path)) <= 107 and path.name.endswith(".sock")
    assert path == haproxy._socket_path(long_base, "rollout-proxy")  # the same base: the same socket
    assert haproxy._socket_path(tmp_path, "p") == tmp_path / "p.sock"


def test_answers_are_split_per_command() -> None:
    assert haproxy.split_answers("\n\n") == ["", ""]
    assert haproxy.split_answers("\nNo such server.\n\n10 (initial 0)\n\n") == ["", "No such server.", "10 (initial 0)"]
    assert haproxy.split_answers("Absolute weight can only be between 0 and 256 inclusive.\n\n\n") == [
        "Absolute weight can only be between 0 and 256 inclusive.",
        "",
    ]


def test_weights_and_sessions_are_parsed() -> None:
    assert haproxy.parse_weights(SERVERS_STATE) == {"stable": 75, "canary": 25}
    rows = haproxy.parse_stat(STAT)
    assert {name: (row["scur"], row["qcur"], row["status"]) for name, row in rows.items()} == {
        "stable": ("3", "0", "UP"),
        "canary": ("2", "1", "UP 1/2"),
    }


@pytest.mark.parametrize("answer", ["Can't find backend.\n\n", "", "Permission denied\n"])
def test_an_unexpected_servers_state_answer_is_an_external_tool_error(answer: str) -> None:
    with pytest.raises(ExternalToolError, match="unexpected answer to `show servers state`"):
        haproxy.parse_weights(answer)


def test_an_unexpected_stat_answer_is_an_external_tool_error() -> None:
    with pytest.raises(ExternalToolError, match="unexpected answer to `show stat`"):
        haproxy.parse_stat("Unknown command\n")
    with pytest.raises(ExternalToolError, match="scur is not a number"):
        haproxy.parse_stat("# pxname,svname,qcur,scur,status\napi,canary,0,lots,UP\n")
    with pytest.raises(ExternalToolError, match="srv_uweight is not a number"):
        haproxy.parse_weights("1\n# be_name srv_name srv_uweight\napi canary ten\n")
