"""Terraform's child environment is an allowlist: the variables Terraform, the aws provider and the processes they
start (local-exec) need, and nothing else. VAULT_TOKEN, GITHUB_TOKEN, TF_TOKEN_*, TF_VAR_*, TF_LOG* or a variable
nobody knows never reach it. docs/stacks.md lists them; `terraform.child_env` builds the environment from them."""

from __future__ import annotations

from collections.abc import Mapping

# Terraform's child environment is an allowlist: only what Terraform, its providers and the processes they start
# (local-exec) need. Anything else (VAULT_TOKEN, GITHUB_TOKEN, TF_TOKEN_*, TF_VAR_*, TF_LOG*, a variable nobody
# knows) never reaches it. docs/stacks.md lists them.
ALLOWED_ENV = frozenset(
    {
        # the process basics
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TMPDIR",
        "TMP",
        "TEMP",
        "TZ",
        "LANG",
        "LANGUAGE",
        # proxies (Go reads both spellings)
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
        # TLS trust
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        # Terraform's plugin cache (infractl sets TF_CLI_CONFIG_FILE and TF_DATA_DIR itself)
        "TF_PLUGIN_CACHE_DIR",
        "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE",
        # the aws provider and the S3 backend: credentials, profiles, region, endpoints, retries
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_SDK_LOAD_CONFIG",
        "AWS_CA_BUNDLE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        "AWS_STS_REGIONAL_ENDPOINTS",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
        "AWS_ENDPOINT_URL",
    }
)
# Families allowed by prefix: locale categories, per-service endpoint overrides.
ALLOWED_ENV_PREFIXES = ("LC_", "AWS_ENDPOINT_URL_")
# Never passed, whatever a caller's `extra` or prefix list says: TF_LOG* can print secrets, TF_VAR_* would bypass
# the environment model, TF_TOKEN_* are registry credentials.
DROPPED_ENV_PREFIXES = (
    "TF_LOG",
    "TF_VAR_",
    "TF_CLI_ARGS",
    "TF_WORKSPACE",
    "TF_DATA_DIR",
    "TF_CLI_CONFIG_FILE",
    "TF_TOKEN_",
)


def allowed_env(base: Mapping[str, str]) -> dict[str, str]:
    """The variables of base that may reach Terraform (ALLOWED_ENV and ALLOWED_ENV_PREFIXES, nothing else)."""
    return {
        k: v
        for k, v in base.items()
        if (k in ALLOWED_ENV or k.startswith(ALLOWED_ENV_PREFIXES)) and not k.startswith(DROPPED_ENV_PREFIXES)
    }
