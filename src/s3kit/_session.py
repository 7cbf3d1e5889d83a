"""Session: settings and credentials resolved once, feeding both clients.

The data plane (the signed requests of `S3Http`: every object read and write, listing, delete
and multipart call) and the control plane (boto3: bucket configuration, ACLs, versions, ...)
get their endpoint, region, addressing style, credentials, retry policy and timeouts from the
same `Settings`, so they can never disagree, and spend one retry budget (`retry_budget`), so a
failing endpoint is not hammered by either. Both report each attempt to the Session's
request events (`events`): the signed path itself, boto3's clients through the botocore hooks
installed here (`_Boto3Seam`), which also hand botocore's retry decision to the one policy.
boto3 is imported only when a control-plane client is first asked for: importing s3kit, or
running a data-plane command, must not pay its start-up cost.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3kit._config import (
    AddressingStyle,
    AwsFiles,
    Credentials,
    SessionOptions,
    Settings,
    detect_ec2,
    resolve_settings,
)
from s3kit._observe import logger, redact
from s3kit._retry import RetryBudget, RetryKind, RetryPolicy, decide, retry_kind
from s3kit.errors import CredentialsError, translating
from s3kit.events import RequestEvent, RequestEvents

if TYPE_CHECKING:
    import ssl

    from s3kit._encryption import Encryption
    from s3kit._local_server import LocalServer
    from s3kit.storage.s3 import S3Storage
    from s3kit.storage.s3http import S3Http

Notify = Callable[[str], None]


def _log_notice(message: str) -> None:
    logger.info("%s", message)


class Session:
    """Resolved configuration plus lazily built SDK clients. Thread-safe; cheap to create."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        addressing_style: AddressingStyle | None = None,
        max_retries: int | None = None,
        retry_budget: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        use_local: bool | None = None,
        local_dir: str | Path | None = None,
        verify_ssl: bool | None = None,
        ca_bundle: str | None = None,
        env: Mapping[str, str] | None = None,
        aws_files: AwsFiles | None = None,
        local_server: LocalServer | None = None,
        notify: Notify | None = None,
        events: RequestEvents | None = None,
    ) -> None:
        self.options = SessionOptions(
            profile=profile,
            endpoint_url=endpoint_url,
            region=region,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            session_token=session_token,
            addressing_style=addressing_style,
            max_retries=max_retries,
            retry_budget=retry_budget,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            use_local=use_local,
            local_dir=Path(local_dir) if local_dir else None,
            verify_ssl=verify_ssl,
            ca_bundle=ca_bundle,
        )
        self._env = env
        self._aws_files = aws_files
        self._local_server = local_server
        self._notify = notify or _log_notice
        # Subscribers to every request either client makes for this Session.
        self.events = events or RequestEvents()
        self._lock = threading.RLock()
        self._settings: Settings | None = None
        self._retry_policy: RetryPolicy | None = None
        self._retry_budget: RetryBudget | None = None
        self._endpoint: str | None = None
        self._credentials: Credentials | None = None
        self._botocore_credentials: Any = None
        self._botocore_chain: Any = None
        self._boto3_session: Any = None
        self._clients: dict[str, Any] = {}
        self._http: S3Http | None = None

    # -- resolution ------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The resolved settings; resolving may start the embedded server."""
        with self._lock:
            if self._settings is None:
                env = os.environ if self._env is None else self._env
                settings = resolve_settings(
                    self.options,
                    env,
                    self._aws_files,
                    on_ec2=_on_ec2(env),
                    local_credentials=self._local_credentials,
                )
                if settings.use_local:
                    self._attach_local(settings)
                else:
                    self._endpoint = settings.endpoint_url
                    self._credentials = settings.credentials
                    if not settings.verify_ssl and not (self._endpoint or "").startswith("http:"):
                        self._notify(
                            f"s3kit: TLS certificate verification is off for"
                            f" {settings.endpoint_label}: anyone on the network path can read"
                            " and change what is sent — use --ca-bundle instead where you can"
                        )
                self._settings = settings
            return self._settings

    def _local_server_for(self, local_dir: Path | None) -> LocalServer:
        from s3kit._local_server import LocalServer

        return self._local_server or LocalServer(local_dir, notify=self._notify)

    def _local_credentials(self, endpoint: str, local_dir: Path | None) -> Credentials | None:
        """The embedded server's keys when `endpoint` is that running server's own: a user
        who names it with --endpoint-url (from `s3kit local status`, a saved connection, a
        script) should not have to copy its keys."""
        return self._local_server_for(local_dir).credentials_for(endpoint)

    def _attach_local(self, settings: Settings) -> None:
        server = self._local_server_for(settings.local_dir)
        state, started = server.start()
        self._endpoint = state.endpoint
        self._credentials = Credentials(state.access_key_id, state.secret_access_key)
        if started:  # said once, when this command had to start it
            self._notify(
                f"s3kit: no endpoint or credentials configured — started the local SeaweedFS"
                f" server at {state.endpoint} (data in {state.data_dir}; stop it with"
                " `s3kit local stop`)"
            )

    @property
    def retry_policy(self) -> RetryPolicy:
        """The one retry policy both clients obey, from the settings (`max_retries`)."""
        with self._lock:
            if self._retry_policy is None:
                self._retry_policy = RetryPolicy.from_settings(self.settings)
            return self._retry_policy

    @property
    def retry_budget(self) -> RetryBudget:
        """The retries both clients of this Session may still spend (`retry_budget` tokens)."""
        with self._lock:
            if self._retry_budget is None:
                self._retry_budget = RetryBudget.from_settings(self.settings)
            return self._retry_budget

    @property
    def endpoint_url(self) -> str | None:
        """The endpoint actually used (the local server's when it is the default)."""
        _ = self.settings
        return self._endpoint

    @property
    def endpoint_label(self) -> str:
        """The endpoint as it may be shown: credentials in its URL masked."""
        return redact(self.endpoint_url or f"Amazon S3 ({self.settings.region})")

    def secrets(self) -> list[str]:
        """Literal secret values this session holds, for log redaction."""
        values = [self.options.secret_access_key, self.options.session_token]
        if self._credentials is not None:
            values += [self._credentials.secret_access_key, self._credentials.session_token]
        # A password in the endpoint URL (http://KEY:SECRET@host), as typed and decoded: the
        # URL form is masked by `redact`'s patterns, this catches it quoted on its own.
        from urllib.parse import unquote, urlsplit

        for url in (self.options.endpoint_url, self._endpoint):
            password = urlsplit(url or "").password
            if password:
                values += [password, unquote(password)]
        return [value for value in values if value]

    def credentials(self) -> Credentials:
        """Current credentials (refreshed by botocore when they come from its chain). When the
        chain cannot produce them, the CredentialsError names the profile and the step that
        failed (`credential_failure`)."""
        settings = self.settings
        if self._credentials is not None and not settings.needs_chain:
            return self._credentials
        try:
            frozen = self._chain_credentials().get_frozen_credentials()
        except Exception as exc:
            error = credential_failure(exc, settings.profile, self._profile_values())
            if error is None:
                raise
            raise error from exc
        return Credentials(frozen.access_key, frozen.secret_key, frozen.token)

    def _profile_values(self) -> Mapping[str, str]:
        env = os.environ if self._env is None else self._env
        files = self._aws_files or AwsFiles.from_env(env)
        return files.profile(self.settings.profile or "default") or {}

    def _chain_credentials(self) -> Any:
        with self._lock:
            if self._botocore_credentials is None:
                credentials = self._chain_session().get_credentials()
                if credentials is None:
                    name = self.settings.profile or "default"
                    raise CredentialsError(
                        f"no credentials found through profile '{name}' — run `aws sso login"
                        f" --profile {name}` or check the profile's role settings"
                    )
                self._botocore_credentials = credentials
            return self._botocore_credentials

    def _chain_session(self) -> Any:
        """The one botocore session whose provider chain gives this Session's credentials:
        the signed path and the boto3 clients share it, so a role is assumed (or an SSO token
        read) once, not once per client."""
        with self._lock:
            if self._botocore_chain is None:
                self._botocore_chain = self._botocore_session()
            return self._botocore_chain

    def _botocore_session(self) -> Any:
        import botocore.session

        settings = self.settings
        session = botocore.session.Session(profile=settings.profile)
        session.register_component("data_loader", _shared_loader())
        if not _on_ec2(os.environ if self._env is None else self._env):
            # Never ask the instance metadata service off EC2 (see config.detect_ec2).
            session.get_component("credential_provider").remove("iam-role")
        return session

    # -- control plane (boto3) ---------------------------------------------------------------

    def client(self, service: str = "s3") -> Any:
        """A boto3 client for `service` (s3, sts, ...) built from the resolved settings."""
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._make_client(service)
            return self._clients[service]

    def _make_client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        settings = self.settings
        with translating(endpoint=self.endpoint_url):
            if self._boto3_session is None:
                if settings.needs_chain:
                    self.credentials()  # a chain that fails says which step, here as anywhere
                    self._boto3_session = boto3.session.Session(
                        botocore_session=self._chain_session(), region_name=settings.region
                    )
                else:
                    import botocore.session

                    creds = self.credentials()
                    botocore_session = botocore.session.Session()
                    botocore_session.register_component("data_loader", _shared_loader())
                    self._boto3_session = boto3.session.Session(
                        aws_access_key_id=creds.access_key_id,
                        aws_secret_access_key=creds.secret_access_key,
                        aws_session_token=creds.session_token,
                        region_name=settings.region,
                        botocore_session=botocore_session,
                    )
            extra: dict[str, Any] = {}
            if not settings.is_aws or settings.use_local:
                # boto3's default CRC checksums on every request break several S3-compatible
                # stores; send them only where an operation requires one.
                extra = {
                    "request_checksum_calculation": "when_required",
                    "response_checksum_validation": "when_required",
                }
            config = Config(
                region_name=settings.region,
                signature_version="s3v4",
                s3={"addressing_style": settings.addressing_style},
                # The same total, so botocore's own bookkeeping (the amz-sdk-request header,
                # RetryAttempts) agrees with what the policy decides (see _Boto3Seam).
                retries={"total_max_attempts": self.retry_policy.max_attempts, "mode": "standard"},
                connect_timeout=settings.connect_timeout,
                read_timeout=settings.read_timeout,
                max_pool_connections=32,
                user_agent_extra="s3kit",
                **extra,
            )
            client = self._boto3_session.client(
                service, endpoint_url=self.endpoint_url, config=config, verify=self._tls_verify()
            )
            _Boto3Seam(self.retry_policy, self.retry_budget, self.events).install(client)
            return client

    def _tls_verify(self) -> bool | str:
        """boto3's `verify`: False, the CA bundle's path, or True (the system's roots)."""
        settings = self.settings
        if not settings.verify_ssl:
            import urllib3  # botocore's own; already imported by now

            # Said once by the Session's notice; urllib3 would repeat it on every request.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            return False
        return settings.ca_bundle or True

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context of the signed-request path, verifying exactly as the other clients
        do: the system's roots, the CA bundle's instead, or nothing with --no-verify-ssl."""
        import ssl

        settings = self.settings
        if not settings.verify_ssl:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=settings.ca_bundle)

    # -- data plane ---------------------------------------------------------------------------

    def http(self) -> S3Http:
        """The signed-request client every `S3Storage` of this session reads, writes, lists
        and deletes through, built once; sized for a transfer's default 32 files at
        once (connections and threads are made only as they are needed)."""
        with self._lock:
            if self._http is None:
                from s3kit.storage.s3http import S3Http

                self._http = S3Http(self, pool_size=32)
            return self._http

    def storage(self, bucket: str, *, encryption: Encryption | None = None) -> S3Storage:
        """The `Storage` for one bucket, on this session."""
        from s3kit.storage.s3 import S3Storage

        return S3Storage(self, bucket, encryption=encryption)


def credential_failure(
    exc: BaseException, profile: str | None, values: Mapping[str, str]
) -> CredentialsError | None:
    """The error to show when botocore's provider chain cannot produce credentials for
    `profile` (whose settings are `values`): it names the profile and the step that failed —
    the SSO token, the role's call to STS, the credential_process — and what to do. None for
    an exception that is not botocore's."""
    if "botocore" not in sys.modules:  # never import botocore just to inspect an error
        return None
    from botocore import exceptions as bce

    name = profile or "default"
    who = f"profile '{name}'"
    role = values.get("role_arn")
    source = values.get("source_profile")
    via = (
        f"source profile '{source}'"
        if source
        else f"credential_source {values['credential_source']}"
        if values.get("credential_source")
        else "its source credentials"
    )
    if isinstance(exc, bce.SSOError | bce.TokenRetrievalError):  # a token missing, expired
        return CredentialsError(
            f"{who} signs in with AWS SSO (IAM Identity Center), and its SSO token is missing"
            f" or expired — run `aws sso login --profile {name}`"
        )
    if isinstance(exc, bce.ConnectionError | bce.HTTPClientError):
        url = str(getattr(exc, "kwargs", {}).get("endpoint_url") or "its endpoint")
        if role:
            step = f"assumes role {role} through STS at {url}"
            hint = (
                "check the network, or the STS endpoint the profile names (AWS_ENDPOINT_URL_STS,"
                " its services section, sts_regional_endpoints)"
            )
        elif "sso_start_url" in values or "sso_session" in values:
            step = f"gets its role credentials from AWS SSO at {url}"
            hint = "check the network and the profile's sso_region"
        else:
            step = f"gets its credentials from {url}"
            hint = "check the network"
        return CredentialsError(f"{who} {step}, which cannot be reached — {hint}")
    if isinstance(exc, bce.ClientError):
        error = dict(exc.response.get("Error", {}))
        said = ": ".join(str(part) for part in (error.get("Code"), error.get("Message")) if part)
        if exc.operation_name.startswith("AssumeRole"):
            return CredentialsError(
                f"{who} assumes role {role or '(none named)'} with {via}, and STS refused it"
                f" ({said}) — check the role's trust policy and the credentials of {via}"
            )
        return CredentialsError(
            f"{who}: {exc.operation_name} refused to give credentials ({said}) — run"
            f" `aws sso login --profile {name}`, or check the profile's role settings"
        )
    if isinstance(exc, bce.CredentialRetrievalError):
        step = "its credential_process" if "credential_process" in values else "its provider"
        detail = getattr(exc, "kwargs", {}).get("error_msg") or str(exc)
        return CredentialsError(f"{who} could not get credentials from {step}: {detail}")
    if isinstance(exc, bce.BotoCoreError):
        return CredentialsError(f"{who} cannot produce credentials: {exc}")
    return None


@functools.cache
def _shared_loader() -> Any:
    """One botocore model loader per process: the service models it caches are read-only,
    and reading them again costs ~60 ms for every Session that needs a client."""
    import botocore.loaders

    return botocore.loaders.create_loader()


def _on_ec2(env: Mapping[str, str]) -> bool:
    if env.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
        return False
    return detect_ec2()


class _Boto3Seam:
    """botocore hooks on one client: its retry decision is the Session's `RetryPolicy` and
    `RetryBudget` (`_retry.decide`), and each attempt is published as a `RequestEvent`.

    botocore's "standard" retry handler is replaced (it is registered on `needs-retry` under
    the unique id `retry-config-<service>`): it would decide with rules and waits of its own,
    and only the handler that decides knows whether an attempt is the last. `needs-retry` fires
    once per attempt (after an answer or a connection failure), which is where the event is
    built; `request-created` (once per attempt too) marks its start, and `before-parameter-build`
    keeps the call's bucket and key. The hooks build nothing when nobody listens. A failure the
    budget cannot pay a retry for is marked as botocore marks its own quota's refusals
    (`ResponseMetadata.RetryQuotaReached`; an attribute of a connection failure), which
    `errors.translate` turns into the words "retry budget".
    """

    _STARTED = "s3kit.started"
    _TARGET = "s3kit.target"
    _SPENT = "s3kit.retry_cost"

    def __init__(self, policy: RetryPolicy, budget: RetryBudget, events: RequestEvents) -> None:
        self.policy = policy
        self.budget = budget
        self.events = events

    def install(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        hooks = client.meta.events
        hooks.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
        hooks.register(
            f"needs-retry.{service}", self.needs_retry, unique_id=f"retry-config-{service}"
        )
        hooks.register(f"before-parameter-build.{service}", self.remember_target)
        hooks.register(f"request-created.{service}", self.attempt_started)

    def remember_target(self, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        if self.events.active:
            context[self._TARGET] = (params.get("Bucket"), params.get("Key"))

    def attempt_started(self, request: Any, **_: Any) -> None:
        if self.events.active:
            from botocore.utils import determine_content_length

            request.context[self._STARTED] = (
                time.monotonic(),
                determine_content_length(request.body) or 0,
            )

    def needs_retry(
        self,
        response: tuple[Any, dict[str, Any]] | None,
        operation: Any,
        attempts: int,
        caught_exception: BaseException | None,
        request_dict: dict[str, Any],
        **_: Any,
    ) -> float | None:
        """The seconds to wait before the next attempt; None: this attempt was the last."""
        status: int | None = None
        code: str | None = None
        kind: RetryKind | None = None
        context = request_dict.setdefault("context", {})
        if response is not None:
            http_response, parsed = response
            # botocore has made a 200 carrying an S3 <Error> a 500 by now (_update_status_code).
            status = int(http_response.status_code)
            if status >= 300:
                code = str((parsed.get("Error") or {}).get("Code") or "") or None
                kind = retry_kind(status, code)
            else:
                self.budget.succeeded(context.get(self._SPENT, 0))
        elif caught_exception is not None:
            from botocore.exceptions import (
                ConnectionError,
                ConnectTimeoutError,
                HTTPClientError,
                ReadTimeoutError,
            )

            if isinstance(caught_exception, ReadTimeoutError | ConnectTimeoutError):
                kind = "timeout"
            elif isinstance(caught_exception, ConnectionError | HTTPClientError):
                kind = "connection"
        decision = decide(self.policy, self.budget, attempts, kind)
        delay, spent = decision.delay, decision.budget_spent
        if decision.cost:
            context[self._SPENT] = decision.cost
        if spent:
            if response is not None:
                response[1].setdefault("ResponseMetadata", {})["RetryQuotaReached"] = True
            elif caught_exception is not None:
                caught_exception.s3kit_retry_budget_spent = True  # type: ignore[attr-defined]
        if self.events.active:
            reason = kind if delay is not None else None
            try:
                self._publish(
                    response, operation, attempts, request_dict, status, code, reason, delay, spent
                )
            except Exception:  # an answer shaped unlike any seen must not break the call
                logger.debug("cannot report a %s attempt", operation.name, exc_info=True)
        if delay is not None:
            logger.debug(
                "retrying %s in %.2f s: %s", operation.name, delay, code or caught_exception
            )
        return delay

    def _publish(
        self,
        response: tuple[Any, dict[str, Any]] | None,
        operation: Any,
        attempt: int,
        request_dict: dict[str, Any],
        status: int | None,
        code: str | None,
        reason: RetryKind | None,
        delay: float | None,
        budget_spent: bool,
    ) -> None:
        context = request_dict.get("context") or {}
        started, sent = context.get(self._STARTED) or (None, 0)
        bucket, key = context.get(self._TARGET) or (None, None)
        received, request_id = 0, None
        if response is not None:
            http_response, parsed = response
            headers = http_response.headers
            request_id = (parsed.get("ResponseMetadata") or {}).get("RequestId") or headers.get(
                "x-amz-request-id"
            )
            if operation.has_streaming_output and status is not None and status < 300:
                length = str(headers.get("content-length") or "")
                received = int(length) if length.isdigit() else 0  # the caller reads it later
            else:
                received = len(http_response.content or b"")
        self.events.publish(
            RequestEvent(
                client="boto3",
                operation=operation.name,
                method=str(request_dict.get("method") or operation.http.get("method") or ""),
                bucket=bucket,
                key=key,
                attempt=attempt,
                status=status,
                seconds=0.0 if started is None else time.monotonic() - started,
                bytes_sent=sent,
                bytes_received=received,
                request_id=request_id or None,
                error_code=code,
                retrying=delay is not None,
                retry_reason=reason,
                retry_delay=delay,
                retry_budget_spent=budget_spent,
            )
        )
