"""The network functions: cidrhost, cidrnetmask, cidrsubnet and cidrsubnets, over
IPv4 and IPv6 with ``ipaddress``.

Always holds: a prefix may have host bits set (``10.1.2.3/16`` is ``10.1.0.0/16``, as
Terraform reads it); results are printed as ``ipaddress`` prints them (RFC 5952 for
IPv6, as Go does); a bad prefix, a number outside the range or a prefix that cannot be
extended is a ``FunctionError`` saying which.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from engine.functions.args import FunctionError, as_number, as_string

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(prefix: Any) -> Network:
    text = as_string(prefix, "prefix")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError as err:
        raise FunctionError(f'invalid CIDR prefix "{text}": {err}') from None


def _whole(value: Any, arg: str) -> int:
    n = as_number(value, arg)
    if n != int(n):
        raise FunctionError(f"the {arg} must be a whole number, not {n}")
    return int(n)


def f_cidrhost(prefix: Any, hostnum: Any) -> str:
    net = _network(prefix)
    num = _whole(hostnum, "host number")
    size = net.num_addresses
    if not -size <= num < size:
        raise FunctionError(f"prefix {net} has no host number {num} (it has {size} addresses)")
    return str(net.network_address + (num if num >= 0 else size + num))


def f_cidrnetmask(prefix: Any) -> str:
    net = _network(prefix)
    if net.version != 4:
        raise FunctionError("cidrnetmask works on IPv4 prefixes only; IPv6 has no netmasks")
    return str(net.netmask)


def _subnet(net: Network, newbits: int, netnum: int) -> Network:
    length = net.prefixlen + newbits
    if newbits < 0:
        raise FunctionError("the number of new bits must not be negative")
    if length > net.max_prefixlen:
        raise FunctionError(
            f"insufficient address space to extend prefix of {net.prefixlen} by {newbits}"
        )
    if not 0 <= netnum < 1 << newbits:
        raise FunctionError(
            f"prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        )
    start = int(net.network_address) + (netnum << (net.max_prefixlen - length))
    return type(net)((start, length))


def f_cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    net = _network(prefix)
    return str(_subnet(net, _whole(newbits, "newbits"), _whole(netnum, "netnum")))


def f_cidrsubnets(prefix: Any, *newbits: Any) -> list[str]:
    net = _network(prefix)
    if not newbits:
        return []
    out: list[str] = []
    bits = net.max_prefixlen
    end = int(net.network_address) + net.num_addresses
    nxt = int(net.network_address)  # the first address not yet allocated
    for i, value in enumerate(newbits):
        extra = _whole(value, f"newbits #{i + 1}")
        length = net.prefixlen + extra
        if extra < 1:
            raise FunctionError(f"newbits #{i + 1} must be at least 1")
        if length > bits:
            raise FunctionError(
                f"would extend prefix to {length} bits, which is too long for an "
                f"IPv{net.version} address"
            )
        size = 1 << (bits - length)
        start = -(-nxt // size) * size  # aligned to its own size
        if start + size > end:
            raise FunctionError(
                f"not enough remaining address space for a subnet with a prefix of "
                f"{length} bits after {out[-1] if out else net}"
            )
        out.append(str(type(net)((start, length))))
        nxt = start + size
    return out
