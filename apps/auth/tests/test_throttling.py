"""Login and register are throttled per client IP and per email, in the shared cache."""

import uuid

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_cache(request, settings):
    """Counters in a cache of this test's own: parallel test workers share the file cache or
    Redis database and clear it at the start of each of their tests. The Redis test below
    keeps the configured cache."""
    if request.node.get_closest_marker("redis") is None:
        settings.CACHES = {
            **settings.CACHES,
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex},
        }


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        base = {"login_ip": "100/min", "login_email": "100/min", "register_ip": "100/min", "register_email": "100/min"}
        base.update(rates)
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": base}

    return set_rates


def login(client, email, ip="10.0.0.1", password="wrong-password", **extra):
    return client.post("/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip, **extra)


def register(client, email, ip="10.0.0.1"):
    body = {"name": "N", "email": email, "password": "correct-horse"}
    return client.post("/auth/register", body, format="json", REMOTE_ADDR=ip)


def assert_throttled(response):
    assert response.status_code == 429
    assert response.json() == {"message": "Too many requests. Try again later."}
    assert int(response["Retry-After"]) >= 1


def test_login_is_throttled_per_email_whatever_the_ip(api_client, make_user, rates):
    rates(login_email="3/min")
    make_user(email="victim@example.com", password="password123")
    for i in range(3):
        assert login(api_client, "victim@example.com", ip=f"10.0.0.{i}").status_code == 401
    assert_throttled(login(api_client, "Victim@Example.com", ip="10.9.9.9"))
    # Even the right password waits: the limit is on attempts for this account.
    assert_throttled(login(api_client, "victim@example.com", ip="10.9.9.8", password="password123"))
    # Another account from the same IP is not affected.
    assert login(api_client, "other@example.com", ip="10.0.0.1").status_code == 401


def test_login_is_throttled_per_ip_whatever_the_email(api_client, rates):
    rates(login_ip="3/min")
    for i in range(3):
        assert login(api_client, f"user{i}@example.com").status_code == 401
    assert_throttled(login(api_client, "fresh@example.com"))
    # A forged X-Forwarded-For does not give a new identity.
    assert_throttled(login(api_client, "fresh2@example.com", HTTP_X_FORWARDED_FOR="1.2.3.4"))
    assert login(api_client, "fresh@example.com", ip="10.0.0.2").status_code == 401


def test_behind_a_trusted_proxy_clients_are_told_apart_by_x_forwarded_for(api_client, rates, settings):
    """NUM_PROXIES=1 (the Ingress): every request comes from the proxy's address; the client is
    the address the proxy appended, so one shopper's failures do not lock out the whole shop."""
    rates(login_ip="2/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.244.0.9"
    for i in range(2):
        assert login(api_client, f"u{i}@example.com", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 401
    assert_throttled(login(api_client, "u3@example.com", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5"))
    # A client cannot pick its identity: only the entry the proxy appended counts.
    forged = "198.51.100.1, 203.0.113.5"
    assert_throttled(login(api_client, "u4@example.com", ip=proxy, HTTP_X_FORWARDED_FOR=forged))
    assert login(api_client, "u5@example.com", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.77").status_code == 401


def test_num_proxies_is_read_from_the_environment():
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from django.conf import settings as s; print(s.REST_FRAMEWORK['NUM_PROXIES'])"
    )
    env = {"DJANGO_SETTINGS_MODULE": "ecommerce.settings", "PATH": "/usr/bin:/bin", "VAR_DIR": "/tmp"}
    behind = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env={**env, "NUM_PROXIES": "1"}, capture_output=True, text=True, check=True
    )
    direct = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    assert behind.stdout.strip() == "1"
    assert direct.stdout.strip() == "None"


def test_register_is_throttled_per_ip(api_client, rates):
    rates(register_ip="2/min")
    assert register(api_client, "a@example.com").status_code == 201
    assert register(api_client, "b@example.com").status_code == 201
    assert_throttled(register(api_client, "c@example.com"))
    assert register(api_client, "c@example.com", ip="10.0.0.2").status_code == 201


def test_register_is_throttled_per_email(api_client, rates):
    rates(register_email="2/min")
    assert register(api_client, "a@example.com", ip="10.0.0.1").status_code == 201
    assert register(api_client, "a@example.com", ip="10.0.0.2").status_code == 409
    assert_throttled(register(api_client, "A@example.com", ip="10.0.0.3"))
    assert register(api_client, "b@example.com", ip="10.0.0.3").status_code == 201


def test_default_rates_come_from_settings(api_client, settings):
    from apps.auth.api.throttles import LoginEmailThrottle, LoginIpThrottle, RegisterEmailThrottle, RegisterIpThrottle

    configured = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert LoginIpThrottle().rate == configured["login_ip"]
    assert LoginEmailThrottle().rate == configured["login_email"]
    assert RegisterIpThrottle().rate == configured["register_ip"]
    assert RegisterEmailThrottle().rate == configured["register_email"]


@pytest.mark.redis
def test_throttle_counters_live_in_redis(api_client, rates):
    """With REDIS_URL the counters are in Redis, shared by every process."""
    from django.core.cache import caches
    from django_redis import get_redis_connection

    assert caches["default"].__class__.__name__ == "RedisCache"
    rates(login_email="2/min")
    for _ in range(2):
        assert login(api_client, "shared@example.com").status_code == 401
    assert_throttled(login(api_client, "shared@example.com"))
    keys = [k.decode() for k in get_redis_connection("default").keys("*throttle_login_email_*")]
    assert len(keys) == 1


def test_an_email_that_is_not_unicode_text_still_gets_a_counter():
    """The API's JSON parser refuses lone surrogates; a view parsing with DRF's stock parser
    lets ``"\\ud800@x.com"`` through, and its counter key is still made (not a 500)."""
    from rest_framework.parsers import JSONParser
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from apps.auth.api.throttles import LoginEmailThrottle

    body = '{"email": "\\ud800@x.com", "password": "x"}'
    request = Request(
        APIRequestFactory().post("/auth/login", body, content_type="application/json"), parsers=[JSONParser()]
    )
    assert LoginEmailThrottle().get_cache_key(request, None).startswith("throttle_login_email_")
