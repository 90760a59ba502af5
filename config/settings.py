"""Settings for the 掌上办 service.

One module, switched by environment variables (12-factor). Profiles:
``SHEBAO_ENV=development`` (simulators on, local secrets generated into
``var/``; ``make run`` sets it), ``test`` (used by pytest) and ``production``
(every secret must come from the environment, simulators off, secure cookies).

Fail-safe: an unset ``SHEBAO_ENV`` means **production**, so a server never runs
in development (public SMS outbox, generated secrets) by accident. An unknown
profile, a production start with a required setting missing, and production with
``DJANGO_DEBUG=1`` or ``SIMULATORS_ENABLED=1`` all stop the process at start-up
with ``ImproperlyConfigured`` naming what is wrong.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.secrets import load_dev_secrets, parse_keyring

BASE_DIR = Path(__file__).resolve().parent.parent
# The service's release (pyproject.toml): shown in the manual, which must be of the same release.
SERVICE_VERSION = tomllib.loads((BASE_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
_DEFAULT_VAR = BASE_DIR / "var" / ("test" if (os.environ.get("SHEBAO_ENV") == "test" or "pytest" in sys.modules) else "")
VAR_DIR = Path(os.environ.get("SHEBAO_VAR_DIR", _DEFAULT_VAR))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# The test profile is chosen by `make test` (and by the root conftest.py); pytest
# run directly without either still gets it, never the development secrets dir.
# Anything else without SHEBAO_ENV is production (fail-safe; `make run` says development).
PROFILES = ("development", "test", "production")
ENV = os.environ.get("SHEBAO_ENV") or ("test" if "pytest" in sys.modules else "production")
# Prometheus (shebao.common.metrics): outside tests every process of a deployment (the web
# workers, the jobs workers) writes its counters here, and `manage.py metrics_server` serves
# their sum on METRICS_BIND, loopback by default. Set before prometheus_client is imported.
if ENV != "test":
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "prometheus"))
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
METRICS_BIND = os.environ.get("METRICS_BIND", "127.0.0.1:9464")
if ENV not in PROFILES:
    raise ImproperlyConfigured(f"SHEBAO_ENV={ENV!r} is not a profile; use one of: {', '.join(PROFILES)}")
PRODUCTION = ENV == "production"
DEVELOPMENT = ENV == "development"
PORT = int(os.environ.get("PORT", "8000"))

# Production reads these from the environment, with no default. The secrets are those
# development generates into var/dev-secrets.json (and /readyz checks); the other
# names default to simulator values (fake account ids, loopback URL) outside production.
PRODUCTION_SECRETS = (
    "SECRET_KEY", "SHEBAO_PII_KEY", "SHEBAO_INDEX_KEY", "SHEBAO_SM2_PRIVATE_KEY",
    "SMS_ACCESS_KEY_SECRET", "WECHAT_SECRET",
    "WECHATPAY_MERCHANT_SERIAL_NO", "WECHATPAY_MERCHANT_PRIVATE_KEY", "WECHATPAY_APIV3_KEY",
    "WECHATPAY_PLATFORM_PUBLIC_KEY", "WECHATPAY_PLATFORM_PUBLIC_KEY_ID",
)
_KEYRING_NAMES = ("SHEBAO_PII_KEY", "SHEBAO_INDEX_KEY")
PRODUCTION_REQUIRED = (
    *PRODUCTION_SECRETS,
    "ALLOWED_HOSTS", "SHEBAO_SELF_URL", "SMS_ACCESS_KEY_ID", "SMS_TEMPLATE_CODE", "WECHAT_APPID", "WECHATPAY_MCHID",
)

if PRODUCTION:
    # The personal-data keys may come as keyrings for rotation (SHEBAO_PII_KEYS, SHEBAO_INDEX_KEYS).
    _missing = [name for name in PRODUCTION_REQUIRED
                if not (os.environ.get(name, "").strip() or (name in _KEYRING_NAMES and os.environ.get(f"{name}S", "").strip()))]
    if _missing:
        raise ImproperlyConfigured(
            "SHEBAO_ENV is production (the default when unset) and these environment variables are missing: "
            + ", ".join(_missing)
            + ". Set them, or run with SHEBAO_ENV=development on a developer machine (make run does)."
        )
    _refused = [name for name in ("DJANGO_DEBUG", "SIMULATORS_ENABLED") if os.environ.get(name, "0") not in ("", "0")]
    if _refused:
        raise ImproperlyConfigured(
            f"{' and '.join(_refused)} may not be on in production (SHEBAO_ENV is production, the default when unset): "
            "debug pages leak settings and data, simulators hand out SMS codes to anyone."
        )
    _secrets = {k: os.environ.get(k, "") for k in PRODUCTION_SECRETS}
else:
    _secrets = load_dev_secrets(VAR_DIR / "dev-secrets.json")

SECRET_KEY = _secrets["SECRET_KEY"]
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "shebao.common.apps.StaffAdminConfig",  # django.contrib.admin with the TOTP-only site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "shebao.common",
    "shebao.reference",
    "shebao.core",
    "shebao.accounts",
    "shebao.audit",
    "shebao.archive",
    "shebao.rules",
    "shebao.fees",
    "shebao.refunds",
    "shebao.agreements",
    "shebao.notices",
    "shebao.query",
    "shebao.web",
    "shebao.manual",
    "shebao.ops",
    "shebao.sso",  # partner channels, single sign-on, the partner API (issue 13)
    "shebao.adapters.sms",
    "shebao.adapters.wechat",
    "shebao.bench",  # manage.py bench_flow (docs/performance.md)
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "shebao.jobs",
]

MIDDLEWARE = [
    "shebao.common.middleware.RequestIdMiddleware",
    "shebao.ops.middleware.MetricsMiddleware",
    "shebao.common.middleware.AllowedMethodsMiddleware",
    "shebao.common.backoffice.BackofficeGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise (static files come precompressed, with ranges); above everything that
    # writes the body. Django >= 4.2 pads the gzip header at random (BREACH), CSRF tokens are masked.
    "django.middleware.gzip.GZipMiddleware",
    "shebao.common.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified() for the back office
    "shebao.common.middleware.PasswordChecksBusyMiddleware",
    "shebao.common.middleware.SessionIdleTimeoutMiddleware",
    "shebao.sso.middleware.PartnerRecheckMiddleware",  # re-verify SSO sessions with the partner per function
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no staff member reads another's TOTP secret or its QR code in the back office

ROOT_URLCONF = "config.urls"
FORM_RENDERER = "shebao.common.form_renderer.FastWidgetRenderer"  # Django's widget markup, common widgets without the engine
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shebao.web.context_processors.site",
                "shebao.notices.context_processors.notice_popup",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # IMMEDIATE: a write transaction takes the lock at BEGIN, so concurrent
    # writers wait (timeout) instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    if ENV == "test":
        # A file, not shared-cache memory: tests that run the app in a server
        # thread (payment notifications) need real locking with a busy timeout.
        DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background jobs (shebao.jobs, docs/architecture.md): django-tasks with its database
# backend, on the default database, so a job enqueued inside a transaction commits or rolls
# back with it. Workers: `manage.py jobs_worker` (started by `make run`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A RUNNING job whose worker has sent no heartbeat for this long is run again (shebao.jobs.recovery).
JOBS_WORKER_LOST_SECONDS = int(os.environ.get("JOBS_WORKER_LOST_SECONDS", "60"))
# Batch deduction (shebao.agreements.batch_*): items per chunk a job claims at a time, and how
# many execution jobs a started task queues (the workers share its chunks).
BATCH_CHUNK_SIZE = int(os.environ.get("BATCH_CHUNK_SIZE", "1000"))
BATCH_WORKERS_PER_TASK = int(os.environ.get("BATCH_WORKERS_PER_TASK", "2"))
# Retryable adapter errors run the job again after 30 s, 60 s, 120 s... (shebao.jobs.retry).
JOBS_MAX_ATTEMPTS = 5
JOBS_RETRY_BASE_SECONDS = 30
JOBS_RETRY_MAX_SECONDS = 3600
# A refund the channel is still processing is asked about again after this, doubling (shebao.fees.tasks).
REFUND_FOLLOW_UP_SECONDS = float(os.environ.get("REFUND_FOLLOW_UP_SECONDS", "15"))

AUTH_USER_MODEL = "accounts.Account"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "shebao.common.hashers.CappedArgon2PasswordHasher",  # Django's argon2, PASSWORD_CHECKS_IN_FLIGHT at a time
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if ENV == "test":
    # Fast hashing in tests only; production and development use argon2.
    PASSWORD_HASHERS = ["shebao.common.hashers.FastArgon2PasswordHasher", *PASSWORD_HASHERS]
LOGIN_URL = "accounts:login"
# argon2 hashes in flight per process (about 100 MiB each); past the cap, after waiting
# PASSWORD_CHECK_WAIT_SECONDS for a slot, the request gets 429 (shebao.common.hashers).
PASSWORD_CHECKS_IN_FLIGHT = int(os.environ.get("PASSWORD_CHECKS_IN_FLIGHT", "4"))
PASSWORD_CHECK_WAIT_SECONDS = float(os.environ.get("PASSWORD_CHECK_WAIT_SECONDS", "0.5"))
PASSWORD_CHECK_RETRY_AFTER_SECONDS = 2

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if ENV == "test"
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = not PRODUCTION

# --- cache and sessions ---
# With REDIS_URL (DESIGN: production keeps cache and sessions in Redis) sessions are
# read from Redis and written through to the database (cached_db), so a logout or a
# password change ends the session in every process at once. Without it (make run,
# tests) sessions live in the database only; never in a per-process memory cache,
# which would let a session ended in one process live on in another.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "shebao.common.redis_cache.ReusedClientRedisCache",  # Django's RedisCache, one client per pool
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "shebao"),
            "TIMEOUT": 300,
        }
    }

# --- rate limits (shebao.common.ratelimit, the `limits` library) ---
# Redis when the service has it, so every worker counts together; otherwise this process's memory.
RATELIMIT_STORAGE_URL = os.environ.get("RATELIMIT_STORAGE_URL") or (REDIS_URL if REDIS_URL else "memory://")
RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "shebao-rl")
# Reverse proxies in front of the service that append to X-Forwarded-For (shebao.common.client_ip).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# /readyz names the failing checks (a missing secret...) only to loopback without proxy
# headers, or to a probe sending this value in X-Readyz-Token (unset: loopback only).
READYZ_TOKEN = os.environ.get("READYZ_TOKEN", "")

# --- back office (/admin/, shebao.common.backoffice) ---
# Served only on these host names and/or this port, from these networks; anywhere else 404.
# Production: off until BACKOFFICE_HOSTS or BACKOFFICE_PORT is set (the host also in ALLOWED_HOSTS).
ADMIN_HOSTS = [h.strip() for h in os.environ.get("BACKOFFICE_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver").split(",") if h.strip()]
ADMIN_PORT = int(os.environ["BACKOFFICE_PORT"]) if os.environ.get("BACKOFFICE_PORT") else None
ADMIN_ALLOWED_NETWORKS = [n.strip() for n in os.environ.get("BACKOFFICE_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128").split(",") if n.strip()]
STAFF_LOGIN_FAILURE_LIMIT = "5 per 15 minutes"  # per username
STAFF_LOGIN_IP_FAILURE_LIMIT = "20 per 15 minutes"  # per client address

# --- sessions and cookies (ASVS v5.0.0-7.3.1/7.3.2, 3.3.x) ---
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 8 * 3600  # absolute lifetime from login (SessionIdleTimeoutMiddleware)
SESSION_IDLE_TIMEOUT_SECONDS = int(os.environ.get("SESSION_IDLE_TIMEOUT_SECONDS", "900"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_COOKIES = os.environ.get("SECURE_COOKIES", "1" if PRODUCTION else "0") == "1"
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_HTTPONLY = True
if SECURE_COOKIES:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_FAILURE_VIEW = "shebao.web.views.csrf_failure"

# Per-process copies of the contribution rules and insurance types (shebao.common.refcache):
# a change saved in the back office reaches every server process within this many seconds.
REFERENCE_CACHE_SECONDS = int(os.environ.get("REFERENCE_CACHE_SECONDS", "30"))

# --- personal-data crypto (GB/T 39786: SM4 storage, SM3 index, SM2 signature) ---
SHEBAO_CRYPTO_SUITE = os.environ.get("SHEBAO_CRYPTO_SUITE", "sm")  # "sm" (国密) or "intl" (AES-GCM/SHA-256/ECDSA)
# Keyrings (shebao.common.crypto, "Keys and rotation"): the single key is kid "k0";
# SHEBAO_PII_KEYS="kid:hex,kid:hex" adds kids; the current kid (new writes) is
# SHEBAO_PII_CURRENT_KID, else the first listed, else k0. Likewise for the index keys.
# Rotate: add the new kid first in the list, deploy, run `manage.py rotate_field_keys`,
# check it with `--check`, then drop the old key (and SHEBAO_CRYPTO_LEGACY_READABLE=0).
SHEBAO_PII_KEY = _secrets["SHEBAO_PII_KEY"]
SHEBAO_PII_KEYS = parse_keyring(os.environ.get("SHEBAO_PII_KEYS", ""), name="SHEBAO_PII_KEYS")
SHEBAO_PII_CURRENT_KID = os.environ.get("SHEBAO_PII_CURRENT_KID", "")
SHEBAO_INDEX_KEY = _secrets["SHEBAO_INDEX_KEY"]
SHEBAO_INDEX_KEYS = parse_keyring(os.environ.get("SHEBAO_INDEX_KEYS", ""), name="SHEBAO_INDEX_KEYS")
SHEBAO_INDEX_CURRENT_KID = os.environ.get("SHEBAO_INDEX_CURRENT_KID", "")
SHEBAO_CRYPTO_LEGACY_READABLE = os.environ.get("SHEBAO_CRYPTO_LEGACY_READABLE", "1") == "1"  # first-version values (no kid)
SHEBAO_SM2_PRIVATE_KEY = _secrets["SHEBAO_SM2_PRIVATE_KEY"]

# --- external systems (ports and adapters) ---
SIMULATORS_ENABLED = os.environ.get("SIMULATORS_ENABLED", "0" if PRODUCTION else "1") == "1"
SELF_URL = os.environ.get("SHEBAO_SELF_URL", f"http://127.0.0.1:{PORT}")
SIM_STATE_DIR = Path(os.environ.get("SIM_STATE_DIR", VAR_DIR / "sim"))
# The signed heads of the archive and audit log copied out of the database (manage.py
# export_signed_heads, hourly): in production a path on other storage than the database's.
SEAL_HEAD_EXPORT_DIR = Path(os.environ.get("SEAL_HEAD_EXPORT_DIR", VAR_DIR / "seal-heads"))

SMS = {
    "PROVIDER": os.environ.get("SMS_PROVIDER", "aliyun"),
    "ENDPOINT": os.environ.get("SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/" if PRODUCTION else f"{SELF_URL}/sim/sms/"),
    "ACCESS_KEY_ID": os.environ.get("SMS_ACCESS_KEY_ID", "sim-access-key"),
    "ACCESS_KEY_SECRET": os.environ.get("SMS_ACCESS_KEY_SECRET", _secrets.get("SMS_ACCESS_KEY_SECRET", "")),
    "SIGN_NAME": os.environ.get("SMS_SIGN_NAME", "广西税务"),
    "TEMPLATE_CODE": os.environ.get("SMS_TEMPLATE_CODE", "SMS_000001"),
    # notice (not code) template: "您的账号手机号码已于${time}更换为${mobile}..." (shebao.adapters.sms.simulator)
    "NOTICE_MOBILE_CHANGED_TEMPLATE_CODE": os.environ.get("SMS_NOTICE_MOBILE_CHANGED_TEMPLATE_CODE", "SMS_000002"),
    # "您的${insurance}将于${date}从签约银行账户扣缴${amount}元..." (the batch deduction reminder)
    "NOTICE_BATCH_REMINDER_TEMPLATE_CODE": os.environ.get("SMS_NOTICE_BATCH_REMINDER_TEMPLATE_CODE", "SMS_000003"),
    # "您的${insurance}批量扣款${amount}元未成功：${reason}..." (a failed batch deduction)
    "NOTICE_BATCH_FAILED_TEMPLATE_CODE": os.environ.get("SMS_NOTICE_BATCH_FAILED_TEMPLATE_CODE", "SMS_000004"),
    "TIMEOUT_SECONDS": float(os.environ.get("SMS_TIMEOUT_SECONDS", "5")),
}
WECHAT = {
    "APPID": os.environ.get("WECHAT_APPID", "wx_sim_12366"),
    "SECRET": os.environ.get("WECHAT_SECRET", _secrets.get("WECHAT_SECRET", "")),
    "OPEN_BASE": os.environ.get("WECHAT_OPEN_BASE", "https://open.weixin.qq.com" if PRODUCTION else f"{SELF_URL}/sim/wechat/open"),
    "API_BASE": os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com" if PRODUCTION else f"{SELF_URL}/sim/wechat/api"),
    "TIMEOUT_SECONDS": float(os.environ.get("WECHAT_TIMEOUT_SECONDS", "5")),
}

# Real-name check (实名核验, REQUIREMENTS §1.1): Aliyun Cloudauth Mobile3MetaDetailVerify, the
# carrier three-element check. The AccessKey defaults to the SMS one (one Aliyun account);
# PARAM_TYPE "md5" sends only hashes of the name, ID number and mobile.
IDENTITY_CHECK = {
    "PROVIDER": os.environ.get("IDENTITY_CHECK_PROVIDER", "aliyun"),
    "ENDPOINT": os.environ.get(
        "IDENTITY_CHECK_ENDPOINT", "https://cloudauth.aliyuncs.com/" if PRODUCTION else f"{SELF_URL}/sim/identity/"
    ),
    "ACCESS_KEY_ID": os.environ.get("IDENTITY_CHECK_ACCESS_KEY_ID", SMS["ACCESS_KEY_ID"]),
    "ACCESS_KEY_SECRET": os.environ.get("IDENTITY_CHECK_ACCESS_KEY_SECRET", SMS["ACCESS_KEY_SECRET"]),
    "PARAM_TYPE": os.environ.get("IDENTITY_CHECK_PARAM_TYPE", "md5"),
    "TIMEOUT_SECONDS": float(os.environ.get("IDENTITY_CHECK_TIMEOUT_SECONDS", "5")),
}

# Bank deduction (REQUIREMENTS §2.4–2.6): TIPS-style CFX messages (interfaces.md §5) through the
# tax core's bank front; in development the loopback simulator under /sim/bank. No default in
# production: BANK_BASE_URL must be set. TAX_ORG_CODE is the tax bureau's 征收机关代码.
BANK = {
    "PROVIDER": os.environ.get("BANK_PROVIDER", "tips"),
    "BASE_URL": os.environ.get("BANK_BASE_URL", "" if PRODUCTION else f"{SELF_URL}/sim/bank"),
    "TIMEOUT_SECONDS": float(os.environ.get("BANK_TIMEOUT_SECONDS", "10")),
    "SRC_NODE": os.environ.get("BANK_SRC_NODE", "TAXGX0000001"),
    "DES_NODE": os.environ.get("BANK_DES_NODE", "TIPS00000001"),
    "TAX_ORG_CODE": os.environ.get("BANK_TAX_ORG_CODE", "14500000000"),
    "PAYEE_BANK_NO": os.environ.get("BANK_PAYEE_BANK_NO", "011611000018"),
    "PAYEE_ORG_CODE": os.environ.get("BANK_PAYEE_ORG_CODE", "4500000000"),
    "PAYEE_ACCOUNT": os.environ.get("BANK_PAYEE_ACCOUNT", "4500000000000000"),
    "PAYEE_NAME": os.environ.get("BANK_PAYEE_NAME", "国家金库广西壮族自治区分库"),
}

PAYMENT = {
    "WECHATPAY": {
        "MCHID": os.environ.get("WECHATPAY_MCHID", "1900000109"),
        "APPID": os.environ.get("WECHATPAY_APPID", WECHAT["APPID"]),
        "MERCHANT_SERIAL_NO": os.environ.get("WECHATPAY_MERCHANT_SERIAL_NO", _secrets.get("WECHATPAY_MERCHANT_SERIAL_NO", "")),
        "MERCHANT_PRIVATE_KEY": os.environ.get("WECHATPAY_MERCHANT_PRIVATE_KEY", _secrets.get("WECHATPAY_MERCHANT_PRIVATE_KEY", "")),
        "APIV3_KEY": os.environ.get("WECHATPAY_APIV3_KEY", _secrets.get("WECHATPAY_APIV3_KEY", "")),
        "PLATFORM_PUBLIC_KEY": os.environ.get("WECHATPAY_PLATFORM_PUBLIC_KEY", _secrets.get("WECHATPAY_PLATFORM_PUBLIC_KEY", "")),
        "PLATFORM_PUBLIC_KEY_ID": os.environ.get("WECHATPAY_PLATFORM_PUBLIC_KEY_ID", _secrets.get("WECHATPAY_PLATFORM_PUBLIC_KEY_ID", "")),
        "BASE_URL": os.environ.get("WECHATPAY_BASE_URL", "https://api.mch.weixin.qq.com" if PRODUCTION else f"{SELF_URL}/sim/wxpay"),
        # https in production, no query string (interfaces.md §4.2)
        "NOTIFY_URL": os.environ.get("WECHATPAY_NOTIFY_URL", f"{SELF_URL}/api/pay/wechatpay/notify"),
        "REFUND_NOTIFY_URL": os.environ.get("WECHATPAY_REFUND_NOTIFY_URL", f"{SELF_URL}/api/pay/wechatpay/refund-notify"),
        # the simulator's cashier page; WECHATPAY_CASHIER_URL (ignored in production) points at a
        # simulator running in its own process (manage.py bench_flow)
        "CASHIER_URL": (os.environ.get("WECHATPAY_CASHIER_URL", "") if not PRODUCTION else "")
        or (f"{SELF_URL}/sim/wxpay/cashier" if SIMULATORS_ENABLED else ""),
        "TIMEOUT_SECONDS": float(os.environ.get("WECHATPAY_TIMEOUT_SECONDS", "10")),
        # development only: the simulator's halves of the key pairs; never set in production
        "MERCHANT_PUBLIC_KEY": "" if PRODUCTION else _secrets.get("WECHATPAY_MERCHANT_PUBLIC_KEY", ""),
        "PLATFORM_PRIVATE_KEY": "" if PRODUCTION else _secrets.get("WECHATPAY_PLATFORM_PRIVATE_KEY", ""),
    }
}

# --- SMS code policy (ASVS v5.0.0-6.5.x, 6.6.x) ---
OTP_TTL_SECONDS = 300
# The env override exists for manage.py bench_flow only (a simulated user needs its login
# and step-up codes within a minute); production always keeps 60 s.
OTP_MIN_INTERVAL_SECONDS = 60 if PRODUCTION else int(os.environ.get("OTP_MIN_INTERVAL_SECONDS", "60"))
OTP_MAX_PER_HOUR = 5  # per number, like the gateway (Aliyun's default flow control 1/min, 5/h, 10/day)
OTP_MAX_PER_DAY = 10  # per number and calendar day in China
# Per-client limits on asking for SMS codes (README "短信验证码的发送限制"), in the `limits`
# notation, several separated by ";": per client IP (behind TRUSTED_PROXY_COUNT proxies),
# per browser session, and over the whole service. Refused: HTTP 429 with Retry-After.
SMS_SEND_RATE_PER_IP = os.environ.get("SMS_SEND_RATE_PER_IP", "5/minute;20/hour")
SMS_SEND_RATE_PER_SESSION = os.environ.get("SMS_SEND_RATE_PER_SESSION", "3/minute;10/hour")
SMS_SEND_RATE_OVERALL = os.environ.get("SMS_SEND_RATE_OVERALL", "100/second")
OTP_MAX_ATTEMPTS = 5
# Password guesses (shebao.accounts.throttle): per account (ID number and mobile together),
# moving windows; per client address, failures whatever the identifier.
LOGIN_MAX_FAILURES = 5
LOGIN_LOCK_SECONDS = 15 * 60
LOGIN_MAX_FAILURES_PER_DAY = 15
LOGIN_IP_FAILURE_LIMIT = os.environ.get("LOGIN_IP_FAILURE_LIMIT", "30 per 15 minutes")
STEP_UP_VALID_SECONDS = 300

# --- single sign-on from partner channels and the partner API (shebao.sso, issue 13) ---
# AUDIENCE: what a ticket's "aud" must say; a ticket lives at most TICKET_MAX_AGE_SECONDS
# (60 s); partner clocks may differ from ours by CLOCK_SKEW_SECONDS; the back-channel check
# waits CHECK_TIMEOUT_SECONDS for the partner and then ends the session (fails closed).
SSO = {
    "AUDIENCE": os.environ.get("SSO_AUDIENCE", "shebao-h5"),
    "TICKET_MAX_AGE_SECONDS": 60,
    "CLOCK_SKEW_SECONDS": int(os.environ.get("SSO_CLOCK_SKEW_SECONDS", "30")),
    "CHECK_TIMEOUT_SECONDS": float(os.environ.get("SSO_CHECK_TIMEOUT_SECONDS", "3")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "shebao.common.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "shebao.common.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # httpx logs whole URLs at INFO; WeChat puts the secret and code in the query.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # fontTools logs kept glyph ids at INFO: they would reveal a payer's name.
        "fontTools": {"level": "WARNING"},
    },
}
