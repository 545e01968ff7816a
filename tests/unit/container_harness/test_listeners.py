"""Listening sockets from /proc/net/tcp{,6} tables captured in a real container, and what they say."""

from __future__ import annotations

from pathlib import Path

from container_harness.run.listeners import Listener, diagnose, parse_proc_net_tcp

PAYLOADS = Path(__file__).parent / "payloads"


def test_ipv4_table_gives_the_wildcard_and_the_loopback_listener() -> None:
    # Captured with `httpd -p 0.0.0.0:8080 & httpd -p 127.0.0.1:9090` in the busybox stand-in.
    listeners = parse_proc_net_tcp((PAYLOADS / "proc_net_tcp.txt").read_text())
    assert listeners == [Listener("0.0.0.0", 8080), Listener("127.0.0.1", 9090)]
    assert listeners[0].wildcard
    assert not listeners[0].loopback_only
    assert listeners[1].loopback_only


def test_ipv6_table_gives_the_wildcard_listener() -> None:
    listeners = parse_proc_net_tcp((PAYLOADS / "proc_net_tcp6.txt").read_text())
    assert listeners == [Listener("::", 8080)]


def test_a_listener_reachable_on_the_port_means_keep_waiting() -> None:
    assert diagnose([Listener("0.0.0.0", 8080)], 8080) is None
    assert diagnose([Listener("::", 8080), Listener("127.0.0.1", 8080)], 8080) is None
    assert diagnose([], 8080) is None  # nothing listens yet: the server may still be starting


def test_a_loopback_only_listener_is_named() -> None:
    cause = diagnose([Listener("127.0.0.1", 8080)], 8080)
    assert cause is not None
    assert "listens on 127.0.0.1:8080 only" in cause
    assert "0.0.0.0" in cause


def test_a_listener_on_another_port_names_that_port() -> None:
    cause = diagnose([Listener("0.0.0.0", 8000), Listener("127.0.0.1", 9000)], 8080)
    assert cause == (
        "nothing listens on port 8080; the container listens on 8000: set run.port to the port the service uses"
    )
