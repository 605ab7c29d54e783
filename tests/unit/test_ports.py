"""Ports for a stack started by the tests: chosen together, never one twice."""
from zfcommon.devstack.ports import free_ports


def test_ports_chosen_together_are_distinct():
    for _ in range(20):
        ports = free_ports(9)
        assert len(set(ports)) == 9 and all(1024 < p < 65536 for p in ports)
