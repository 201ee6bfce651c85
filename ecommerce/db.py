"""Database aliases and routing, one alias per bounded context.

Aliases: ``default``, ``auth``, ``catalog``, ``orders``, ``search``. Each context reads its URL
from ``<CONTEXT>_DATABASE_URL`` and falls back to ``DATABASE_URL``.

Shared shape (a context's URL equals ``DATABASE_URL``): the context is routed to the
``default`` connection itself, so one ``transaction.atomic()`` spans every context and the
checkout's stock change and order are one unit of work. The context alias still exists (for
``manage.py migrate --database=catalog`` and the like) and is a test mirror of ``default``.

Split shape (a context has its own URL): its models live only in that database.

Cross-database foreign keys: Django's own apps (admin, auth, contenttypes, sessions) live in the
identity context beside the custom user model, so the admin log's foreign keys to the user and
to content types stay inside one database. No model of ours has a foreign key leaving its
context; the outbox and inbox tables of ``apps.events`` exist in every database, since each
context writes its events in its own transaction.
"""

from django.conf import settings

CONTEXTS = ("auth", "catalog", "orders", "search")

APP_CONTEXT = {
    "accounts": "auth",
    "admin": "auth",
    "auth": "auth",
    "contenttypes": "auth",
    "sessions": "auth",
    "catalog": "catalog",
    "images": "catalog",
    "orders": "orders",
    "cart": "orders",
    "search": "search",
}

# Apps whose tables exist in every context database.
EVERYWHERE = {"events"}


def _with_defaults(config, alias, var_dir, pool_size=0, prepare_threshold=None):
    config.setdefault("ATOMIC_REQUESTS", False)
    config["TEST"] = dict(config.get("TEST") or {})
    engine = config.get("ENGINE", "")
    if prepare_threshold is not None and not engine.endswith("sqlite3"):
        # Server-side binding and prepared statements: a statement run that many times on a
        # connection is planned once, not at every run (planning was a third of PostgreSQL's
        # time per checkout, bench/README.md finding 17). Off by default, as in Django: a
        # transaction-mode pooler (PgBouncer) in front of PostgreSQL cannot keep them.
        config.setdefault("OPTIONS", {})
        config["OPTIONS"]["server_side_binding"] = True
        config["OPTIONS"]["prepare_threshold"] = prepare_threshold
    if engine.endswith("sqlite3"):
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault("timeout", 20)
        config["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
        config["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        # A file, not shared-cache memory: that one locks whole tables under BEGIN IMMEDIATE.
        config["TEST"].setdefault("NAME", str(var_dir / f"test_{alias}.sqlite3"))
    elif pool_size:
        # DB_POOL_SIZE > 0: psycopg's pool per process and alias; a request borrows a connection
        # and gives it back (no per-request health-check round trip; the pool replaces broken ones).
        config.setdefault("OPTIONS", {})
        config["OPTIONS"]["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10, "max_idle": 300}
        config["CONN_MAX_AGE"] = 0
        config["CONN_HEALTH_CHECKS"] = False
    else:
        config.setdefault("CONN_MAX_AGE", 60)
        config.setdefault("CONN_HEALTH_CHECKS", True)
    return config


def build_databases(env, var_dir):
    """DATABASES from the environment: every context falls back to DATABASE_URL."""
    default_url = env.str("DATABASE_URL", default="")
    if not default_url:
        var_dir.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
        default_url = f"sqlite:///{var_dir / 'db.sqlite3'}"
    suffix = env.str("ECOMMERCE_TEST_DB_SUFFIX", default="")
    pool_size = env.int("DB_POOL_SIZE", default=0)
    # Unset or empty: off (Django's default). An empty value lets a deployment that sets it for
    # every role (Compose's .env) turn it off, e.g. behind PgBouncer.
    prepare = env.str("DB_PREPARE_THRESHOLD", default="").strip()
    prepare = int(prepare) if prepare else None
    databases = {"default": _with_defaults(env.db_url_config(default_url), "default", var_dir, pool_size, prepare)}
    if suffix and not databases["default"]["ENGINE"].endswith("sqlite3"):
        databases["default"]["TEST"]["NAME"] = f"test_{databases['default']['NAME']}_{suffix}"
    for context in CONTEXTS:
        url = env.str(f"{context.upper()}_DATABASE_URL", default=default_url)
        config = _with_defaults(env.db_url_config(url), context, var_dir, pool_size, prepare)
        if url == default_url:
            config["TEST"]["MIRROR"] = "default"
            config["SHARED_WITH_DEFAULT"] = True
        elif suffix and not config["ENGINE"].endswith("sqlite3"):
            config["TEST"]["NAME"] = f"test_{config['NAME']}_{suffix}"
        databases[context] = config
    return databases


def alias_for(context):
    """The connection alias that holds a context's tables ("default" when shared)."""
    if settings.DATABASES[context].get("SHARED_WITH_DEFAULT"):
        return "default"
    return context


def context_aliases():
    """``default`` and the distinct context aliases: every database with the events tables (for
    relays, status, migrate). Readiness uses ``routed_aliases``."""
    aliases = []
    for alias in ["default", *(alias_for(c) for c in CONTEXTS)]:
        if alias not in aliases:
            aliases.append(alias)
    return aliases


def routed_aliases():
    """The distinct aliases some context is routed to: what serving requests needs (readiness).
    ``default`` is among them only when a context shares it; in the split shape it holds no
    context's data."""
    aliases = []
    for alias in (alias_for(c) for c in CONTEXTS):
        if alias not in aliases:
            aliases.append(alias)
    return aliases


def is_split():
    return any(alias_for(c) != "default" for c in CONTEXTS)


class ContextRouter:
    """Sends each app's models to its context's database and keeps relations inside it."""

    def _alias(self, app_label):
        context = APP_CONTEXT.get(app_label)
        return alias_for(context) if context else None

    def db_for_read(self, model, **hints):
        return self._alias(model._meta.app_label)

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        first = self._alias(obj1._meta.app_label) or obj1._state.db
        second = self._alias(obj2._meta.app_label) or obj2._state.db
        return first == second

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label in EVERYWHERE:
            return db in context_aliases()
        alias = self._alias(app_label)
        if alias is None:
            return db == "default"
        return db == alias
