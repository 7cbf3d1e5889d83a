"""Prometheus 2.42's service discoveries as specs: the common ones field by field with their
UnmarshalYAML checks (static, file, dns, http, kubernetes, ec2, consul, docker), the others as
mappings holding the one setting each refuses to go without. `sd_field` answers for the
`<name>_sd_configs` keys a scrape or Alertmanager config may hold.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from s3kit.configs.validate.gosyntax import url_error
from s3kit.configs.validate.model import (
    Anything,
    Context,
    Flag,
    Integer,
    ListOf,
    MapOf,
    Obj,
    Spec,
    Struct,
    Text,
    is_null,
)
from s3kit.configs.validate.promcommon import (
    DURATION,
    HTTP_CLIENT,
    STRING_MAP,
    STRINGS,
    TARGET_GROUP,
    TEXT,
    URL,
    NonNull,
)

__all__ = ["FILE_SD_RE", "sd_field"]

FILE_SD_RE = re.compile(r"^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$")
FLAG = Flag()


def _check_file_sd(ctx: Context, c: Obj) -> None:
    files = c.get("files") or []
    if not files:
        ctx.error(c.node, "file service discovery config must contain at least one path name")
    for name in files:
        if not FILE_SD_RE.match(name):
            ctx.error(c.at("files"), f'path name "{name}" is not valid for file discovery')


def _check_dns_sd(ctx: Context, c: Obj) -> None:
    if not c.get("names"):
        ctx.error(c.node, "DNS-SD config must contain at least one SRV record name")
        return
    kind = (c.text("type") or "SRV").upper()
    if kind in ("A", "AAAA", "MX"):
        if not c.get("port"):
            ctx.error(
                c.node, "a port is required in DNS-SD configs for all record types except SRV"
            )
    elif kind != "SRV":
        ctx.error(c.at("type"), f"invalid DNS-SD records type {c.text('type')}")


def _check_http_sd(ctx: Context, c: Obj) -> None:
    url = c.text("url")
    if not url:
        ctx.error(c.node, "URL is missing")
        return
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)", url)
    if url_error(url):
        ctx.error(c.at("url"), f"invalid URL: {url_error(url)}")
    elif m is None or m.group(1).lower() not in ("http", "https"):
        ctx.error(c.at("url"), "URL scheme must be 'http' or 'https'")
    elif not m.group(2).rsplit("@", 1)[-1]:
        ctx.error(c.at("url"), "host is missing in URL")


_K8S_ROLES = ("pod", "service", "endpoints", "endpointslice", "node", "ingress")


def _check_k8s_role(ctx: Context, node: Any, value: str) -> None:
    if value and value not in _K8S_ROLES:
        ctx.error(node, f'unknown Kubernetes SD role "{value}"')


def _check_k8s_sd(ctx: Context, c: Obj) -> None:
    if not c.text("role"):
        ctx.error(
            c.node, "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)"
        )
        return
    custom_http = any(key in c for key in HTTP_CLIENT.fields)
    namespaces = c.get("namespaces") or {}
    own_namespace = bool(namespaces.get("own_namespace"))
    if c.text("api_server") and c.text("kubeconfig_file"):
        ctx.error(c.node, "cannot use 'kubeconfig_file' and 'api_server' simultaneously")
    elif c.text("kubeconfig_file") and custom_http:
        ctx.error(c.node, "cannot use a custom HTTP client configuration with 'kubeconfig_file'")
    elif not c.text("api_server") and custom_http:
        ctx.error(c.node, "to use custom HTTP client configuration provide 'api_server' explicitly")
    elif own_namespace and (c.text("api_server") or c.text("kubeconfig_file")):
        ctx.error(
            c.node, "cannot use 'namespaces.own_namespace' with 'api_server'/'kubeconfig_file'"
        )
    roles: set[str] = set()
    for selector in c.get("selectors") or []:
        if selector is None:
            continue
        role = selector.text("role")
        if role in roles:
            ctx.error(selector.node, f"duplicated selector role: {role}")
        roles.add(role)


def _check_ec2_sd(ctx: Context, c: Obj) -> None:
    # Without a region Prometheus asks the EC2 metadata service, which only answers on EC2.
    if not c.text("region"):
        ctx.error(c.node, "EC2 SD configuration requires a region")
    for f in c.get("filters") or []:
        if f is not None and not f.get("values"):
            ctx.error(f.node, "EC2 SD configuration filter values cannot be empty")


def _check_consul_sd(ctx: Context, c: Obj) -> None:
    if "server" in c and not c.text("server").strip():
        ctx.error(c.node, "consul SD configuration requires a server address")
    elif (c.text("username") or c.text("password")) and c.get("basic_auth") is not None:
        ctx.error(c.node, "at most one of consul SD username and password and basic auth")
    elif c.text("token") and (c.get("authorization") is not None or c.get("oauth2") is not None):
        ctx.error(c.node, "at most one of consul SD token, authorization, or oauth2")


def _check_docker_sd(ctx: Context, c: Obj) -> None:
    if not c.text("host"):
        ctx.error(c.node, "host missing")


_SD_STRUCTS: dict[str, Struct] = {
    "static_configs": TARGET_GROUP,
    "file_sd_configs": Struct(
        "file.SDConfig", {"files": STRINGS, "refresh_interval": DURATION}, check=_check_file_sd
    ),
    "dns_sd_configs": Struct(
        "dns.SDConfig",
        {"names": STRINGS, "refresh_interval": DURATION, "type": TEXT, "port": Integer()},
        check=_check_dns_sd,
    ),
    "http_sd_configs": HTTP_CLIENT.with_fields(
        "http.SDConfig", {"refresh_interval": DURATION, "url": TEXT}, check=_check_http_sd
    ),
    "kubernetes_sd_configs": HTTP_CLIENT.with_fields(
        "kubernetes.SDConfig",
        {
            "api_server": URL,
            "role": Text(_check_k8s_role),
            "kubeconfig_file": TEXT,
            "namespaces": Struct(
                "kubernetes.NamespaceDiscovery", {"own_namespace": FLAG, "names": STRINGS}
            ),
            "selectors": ListOf(
                Struct(
                    "kubernetes.SelectorConfig",
                    {"role": Text(_check_k8s_role), "label": TEXT, "field": TEXT},
                )
            ),
            "attach_metadata": Struct("kubernetes.AttachMetadataConfig", {"node": FLAG}),
        },
        check=_check_k8s_sd,
    ),
    "ec2_sd_configs": HTTP_CLIENT.with_fields(
        "aws.EC2SDConfig",
        {
            "endpoint": TEXT,
            "region": TEXT,
            "access_key": TEXT,
            "secret_key": TEXT,
            "profile": TEXT,
            "role_arn": TEXT,
            "refresh_interval": DURATION,
            "port": Integer(),
            "filters": ListOf(Struct("aws.EC2Filter", {"name": TEXT, "values": STRINGS})),
        },
        check=_check_ec2_sd,
    ),
    "consul_sd_configs": HTTP_CLIENT.with_fields(
        "consul.SDConfig",
        {
            "server": TEXT,
            "path_prefix": TEXT,
            "token": TEXT,
            "datacenter": TEXT,
            "namespace": TEXT,
            "partition": TEXT,
            "tag_separator": TEXT,
            "scheme": TEXT,
            "username": TEXT,
            "password": TEXT,
            "allow_stale": FLAG,
            "refresh_interval": DURATION,
            "services": STRINGS,
            "tags": STRINGS,
            "node_meta": STRING_MAP,
        },
        check=_check_consul_sd,
    ),
    "docker_sd_configs": HTTP_CLIENT.with_fields(
        "moby.DockerSDConfig",
        {
            "host": TEXT,
            "port": Integer(),
            "filters": ListOf(Struct("moby.Filter", {"name": TEXT, "values": STRINGS})),
            "host_networking_host": TEXT,
            "refresh_interval": DURATION,
        },
        check=_check_docker_sd,
    ),
}

# The other discoveries of Prometheus 2.42: their fields are not modelled, only the settings
# each refuses to go without: `key`, `key=choice,choice` (one of those), `a|b` (one of both);
# `?key=choice,choice` may be left out, but if written must be one of those.
_SD_REQUIRED: dict[str, str] = {
    "azure": "subscription_id",  # and OAuth's three, see _azure_requirements
    "digitalocean": "",
    "dockerswarm": "host role=tasks,services,nodes",
    "eureka": "server",
    "gce": "project zone",
    "hetzner": "role=robot,hcloud",
    "ionos": "datacenter_id",
    "kuma": "server",
    "lightsail": "region",
    "linode": "",
    "marathon": "servers",
    "nerve": "servers paths",
    "nomad": "",
    "openstack": "?availability=public,internal,admin role=instance,hypervisor region",
    "ovhcloud": "application_key application_secret consumer_key service=vps,dedicated_server",
    "puppetdb": "url query",
    "scaleway": "role=instance,baremetal project_id secret_key|secret_key_file access_key",
    "serverset": "servers paths",
    "triton": "account dns_suffix endpoint",
    "uyuni": "server username password",
    "vultr": "",
}


def _no_problem(values: Obj) -> str | None:
    return None


def _marathon_problem(values: Obj) -> str | None:
    token = _text(values.get("auth_token")) or _text(values.get("auth_token_file"))
    if _text(values.get("auth_token")) and _text(values.get("auth_token_file")):
        return "at most one of auth_token & auth_token_file must be configured"
    if not token:
        return None
    if _text(values.get("basic_auth")):
        return "at most one of basic_auth, auth_token & auth_token_file must be configured"
    if _text(values.get("bearer_token")) or _text(values.get("bearer_token_file")):
        return "at most one of bearer_token, bearer_token_file, auth_token & auth_token_file"
    if _text(values.get("authorization")):
        return "at most one of auth_token, auth_token_file & authorization must be configured"
    return None


def _server_url_problem(key: str, *, http_only: bool = False) -> Any:
    def problem(values: Obj) -> str | None:
        server = _text(values.get(key))
        if not server:
            return None  # the requirement reports it
        if url_error(server) is not None:
            return f"invalid {key} URL: {url_error(server)}"
        m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)", server)
        if http_only and (m is None or m.group(1).lower() not in ("http", "https")):
            return "URL scheme must be 'http' or 'https'"
        if m is None or not m.group(2).rsplit("@", 1)[-1]:
            return f"invalid {key} URL: it needs a scheme and a host"
        return None

    return problem


# What some discoveries check beyond their required settings.
_LOOSE_CHECKS: dict[str, Any] = {
    "marathon": _marathon_problem,
    "eureka": _server_url_problem("server"),
    "kuma": _server_url_problem("server"),
    "puppetdb": _server_url_problem("url", http_only=True),
}


def _text(node: Any) -> str:
    if node is None or is_null(node):
        return ""
    if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
        return "x" if node.value else ""
    return str(getattr(node, "value", ""))


class _LooseSD(Spec):
    """A discovery whose fields are not modelled: a mapping holding its required settings."""

    def __init__(self, name: str, requirements: str) -> None:
        self.name = name
        self.requirements = requirements.split()
        self.what = f"{name}.SDConfig"

    def read(self, ctx: Context, node: Any) -> Any:
        if is_null(node):
            return None
        if not isinstance(node, yaml.MappingNode):
            self.refuse(ctx, node)
            return None
        values = MapOf(Anything()).read(ctx, node)
        if values is None:
            return None
        requirements = list(self.requirements)
        if self.name == "azure":
            method = _text(values.get("authentication_method")) or "OAuth"
            if method not in ("OAuth", "ManagedIdentity"):
                ctx.error(
                    values.at("authentication_method"), f'unknown authentication_type "{method}"'
                )
            elif method == "OAuth":
                requirements += ["tenant_id", "client_id", "client_secret"]
        problem = _LOOSE_CHECKS.get(self.name, _no_problem)(values)
        if problem is not None:
            ctx.error(node, f"{self.name}_sd: {problem}")
            return values
        for requirement in requirements:
            optional = requirement.startswith("?")
            key, _, choices = requirement.removeprefix("?").partition("=")
            if optional and not _text(values.get(key)):
                continue
            alternatives = key.split("|")
            value = next((_text(values.get(k)) for k in alternatives if _text(values.get(k))), "")
            if not value:
                ctx.error(
                    node, f"{self.name} SD configuration requires {' or '.join(alternatives)}"
                )
                return values
            if choices and value not in choices.split(","):
                ctx.error(values.at(key), f"unknown {self.name} SD {key} {value!r}")
                return values
        return values


def sd_field(key: str) -> Spec | None:
    """The spec of a `<name>_sd_configs` (or `static_configs`) key, or None if not one."""
    spec: Spec | None = _SD_STRUCTS.get(key)
    name = key.removesuffix("_sd_configs")
    if spec is None and key.endswith("_sd_configs") and name in _SD_REQUIRED:
        spec = _LooseSD(name, _SD_REQUIRED[name])
    if spec is None:
        return None
    return ListOf(NonNull(spec, f"empty or null section in {key}"))
