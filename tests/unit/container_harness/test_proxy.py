"""docker-proxy found and measured from /proc: command lines and stat lines as the kernel gives them."""

from __future__ import annotations

from pathlib import Path

from container_harness.measure.proxy import ProxyCpu, cpu_ticks, is_proxy_for, proxy_pids

# Captured on this machine (Docker 20.10): /proc/<pid>/cmdline split at NUL, and /proc/<pid>/stat.
CMDLINE = (
    "/usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 32971 "
    "-container-ip 172.17.0.2 -container-port 8000"
)
STAT = (
    "534 (docker-proxy) S 1425 1424 1424 0 -1 4194560 293 0 0 0 1 0 0 0 20 0 6 0 182284 1108746240 830 "
    "18446744073709551615 4202496 5014413 140736244932160 0 0 0 1002060288 0 2143420159 0 0 0 17 0 0 0 0 0 0"
)


def test_a_proxy_is_recognised_by_its_host_port_only() -> None:
    argv = CMDLINE.split(" ")
    assert is_proxy_for(argv, 32971)
    assert not is_proxy_for(argv, 8000)  # the container port is not the published one
    assert not is_proxy_for(["/usr/bin/python3", "-host-port", "32971"], 32971)


def test_cpu_ticks_are_utime_plus_stime_even_with_spaces_in_the_name() -> None:
    assert cpu_ticks(STAT) == 1
    assert cpu_ticks(STAT.replace("(docker-proxy)", "(a b) c)").replace(" 1 0 0 0 20", " 7 5 0 0 20")) == 12


def test_pids_and_cpu_from_a_proc_tree(tmp_path: Path) -> None:
    for pid, port in ((534, 32971), (535, 32971), (536, 40000)):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(CMDLINE.replace("32971", str(port)).replace(" ", "\0").encode())
        (tmp_path / str(pid) / "stat").write_text(STAT)
    (tmp_path / "self").mkdir()
    assert proxy_pids(32971, tmp_path) == [534, 535]
    with ProxyCpu(32971, tmp_path) as proxy:
        (tmp_path / "534" / "stat").write_text(STAT.replace(" 1 0 0 0 20", " 101 0 0 0 20"))
    assert proxy.percent is not None
    assert proxy.percent > 0
    with ProxyCpu(1, tmp_path) as nobody:
        pass
    assert nobody.percent is None
