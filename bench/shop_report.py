"""The shop benchmark's bookkeeping and its table (called by ``bench/run.sh``).

    shop_report.py snapshot            JSON on stdout: database time, orders, outbox backlog, stock
    shop_report.py report OUT_DIR ...  the table: k6 summaries (OUT_DIR/k6-*.json), the database
                                       checks (orders vs stock, oversold units, outbox backlog),
                                       the queries per request and the component benchmarks' lines

Reads the bench databases directly (``*_DATABASE_URL`` from the environment) with psycopg: the
checks look at what is stored, not at what the API answered.
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

import psycopg

ENDPOINT_NAMES = {
    "categories": "GET /products/categories?format=tree",
    "products_list": "GET /products (list, 12/page)",
    "product_detail": "GET /products/id/:id",
    "search": "GET /search/products (+filters)",
    "cart_create": "POST /carts",
    "cart_add": "POST /carts/:id/items",
    "order_guest": "POST /orders (guest)",
    "register": "POST /auth/register (once per VU)",
    "login": "POST /auth/login",
    "cart_associate": "POST /carts/associate",
    "order_user": "POST /orders (cartId, JWT)",
    "my_orders": "GET /orders/my-orders",
    "limit_list": "GET /bench/limit/products (bare Django)",
}
TARGETS = {
    "list_fraction": 0.6,
    "list_queries": 5,
    "search_p95_ms": 50.0,
    "checkout_orders_per_s": 100.0,
}


def db_url(context):
    return os.environ.get(f"{context.upper()}_DATABASE_URL") or os.environ["DATABASE_URL"]


def one(url, sql, params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()


def snapshot():
    catalog, orders = db_url("catalog"), db_url("orders")
    now = one(catalog, "SELECT now()")[0]
    order_count, units = one(
        orders,
        "SELECT count(DISTINCT o.id), coalesce(sum(i.quantity), 0)"
        " FROM orders o LEFT JOIN order_items i ON i.order_id = o.id",  # fmt: skip
    )
    backlog = {}
    for context in ("default", "auth", "catalog", "orders", "search"):
        url = db_url(context) if context != "default" else os.environ["DATABASE_URL"]
        backlog[context] = one(url, "SELECT count(*) FROM events_outboxevent WHERE published_at IS NULL")[0]
    negative = one(catalog, "SELECT count(*) FROM catalog_variant WHERE stock_quantity < 0")[0]
    return {
        "now": now.isoformat(),
        "orders": order_count,
        "units": int(units),
        "outbox_backlog": backlog,
        "negative_stock_variants": negative,
    }


def stock_check(since):
    """Orders created since ``since`` against the stock ledger of the same window."""
    catalog, orders = db_url("catalog"), db_url("orders")
    with psycopg.connect(orders) as conn:
        ordered = dict(
            conn.execute(
                "SELECT i.variant_id, sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id "
                "WHERE o.created_at >= %s AND o.status NOT IN ('CANCELLED', 'FAILED') GROUP BY i.variant_id",
                [since],
            ).fetchall()
        )
        created = conn.execute("SELECT count(*) FROM orders WHERE created_at >= %s", [since]).fetchone()[0]
    with psycopg.connect(catalog) as conn:
        taken = dict(
            conn.execute(
                "SELECT variant_id, -sum(change_quantity) FROM catalog_stockmovement "
                "WHERE timestamp >= %s AND type IN ('ORDER', 'ORDER_CANCELLED') GROUP BY variant_id",
                [since],
            ).fetchall()
        )
        ids = list(set(ordered) | set(taken))
        stock = dict(
            conn.execute("SELECT id, stock_quantity FROM catalog_variant WHERE id = ANY(%s)", [ids]).fetchall()
        )
        ledger_mismatch = conn.execute(
            "SELECT count(*) FROM catalog_variant v WHERE v.id = ANY(%s) AND v.stock_quantity <> "
            "(SELECT coalesce(sum(m.change_quantity), 0) FROM catalog_stockmovement m WHERE m.variant_id = v.id)",
            [ids],
        ).fetchone()[0]
    # Units sold without stock behind them: more ordered than the variant held when the run began
    # (what it holds now plus what the run took from it).
    oversold = sum(
        max(0, int(ordered.get(v, 0)) - (int(stock.get(v, 0)) + int(taken.get(v, 0))))
        for v in ids  # noqa: S608 - no SQL here
    )
    return {
        "orders_created": created,
        "units_ordered": int(sum(ordered.values())),
        "units_taken": int(sum(taken.values())),
        "oversold_units": oversold,
        "ledger_mismatch_variants": ledger_mismatch,
        "negative_stock_variants": sum(1 for v in ids if stock.get(v, 0) < 0),
    }


# --- report ------------------------------------------------------------------------------------


def seconds(duration):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration)
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


def metric(summary, name, key, default=0.0):
    values = summary["metrics"].get(name, {}).get("values", {})
    return values.get(key, default)


def endpoint_rows(summary, duration_s):
    rows = []
    for ep, label in ENDPOINT_NAMES.items():
        count = metric(summary, f"http_reqs{{ep:{ep}}}", "count", 0)
        if not count:
            continue
        trend = f"http_req_duration{{ep:{ep}}}"
        rows.append(
            {
                "ep": ep,
                "label": label,
                "count": int(count),
                "rps": count / duration_s,
                "p50": metric(summary, trend, "med"),
                "p95": metric(summary, trend, "p(95)"),
                "p99": metric(summary, trend, "p(99)"),
                "failed": metric(summary, f"http_req_failed{{ep:{ep}}}", "rate"),
                "5xx": int(metric(summary, f"server_errors{{ep:{ep}}}", "count", 0)),
            }
        )
    return rows


def table(headers, rows, align=None):
    align = align or ["<"] + [">"] * (len(headers) - 1)
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]

    def line(cells):
        return "| " + " | ".join(f"{str(c):{a}{w}}" for c, a, w in zip(cells, align, widths, strict=True)) + " |"

    sep = "|" + "|".join(
        ("-" * (w + 1) + ":") if a == ">" else ("-" * (w + 2)) for a, w in zip(align, widths, strict=True)
    )
    return "\n".join([line(headers), sep + "|", *(line(r) for r in rows)])


def load(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def component_lines(out):
    """The numeric lines the component benchmarks printed, as (benchmark, line) rows."""
    rows = []
    for log in sorted(Path(out).glob("component-*.log")):
        name = log.stem.removeprefix("component-")
        for raw in log.read_text(errors="replace").splitlines():
            text = raw.strip().replace("|", "/")
            if text and re.search(r"\d", text) and not text.startswith(("Traceback", "File ", "{")):
                rows.append((name, text[:150]))
    return rows


def cpu_per_order(out, labels, duration_s, rates):
    """CPU milliseconds per order for each part of the stack (bench/cpu.py snapshots)."""
    columns, deltas = [], []
    for label in labels:
        before, after = load(out / f"cpu-{label}-before.json"), load(out / f"cpu-{label}-after.json")
        orders = rates.get(label, 0) * duration_s
        if before is None or after is None or not orders:
            continue
        columns.append(label)
        deltas.append({part: (after[part] - before.get(part, 0.0)) * 1000 / orders for part in after})
    if not columns:
        return None
    parts = [part for part in deltas[0] if any(d.get(part, 0) >= 0.05 for d in deltas)]
    rows = [[part, *(f"{d.get(part, 0):.1f}" for d in deltas)] for part in parts]
    rows.append(["total", *(f"{sum(d.values()):.1f}" for d in deltas)])
    return {"labels": columns, "rows": rows}


def report(args):
    out = Path(args.out)
    duration_s, short_s = seconds(args.duration), seconds(args.short)
    lines = []
    p = lines.append
    p(f"## Shop benchmark ({out.name})\n")
    loads = [
        (out / f"loadavg-{n}").read_text().split()[:3] for n in ("start", "end") if (out / f"loadavg-{n}").exists()
    ]
    if loads:
        p(f"Machine: {os.cpu_count()} cores; load average (1/5/15 min) at start {' '.join(loads[0])}"
          + (f", at end {' '.join(loads[-1])}" if len(loads) > 1 else "") + "\n")  # fmt: skip
    all_5xx = 0
    search_p95 = {}
    for level in args.levels.split():
        summary = load(out / f"k6-mixed-{level}.json")
        if summary is None:
            p(f"mixed {level} VUs: no k6 summary\n")
            continue
        rows = endpoint_rows(summary, duration_s)
        total = sum(r["count"] for r in rows)
        failed = sum(r["failed"] * r["count"] for r in rows)
        five = sum(r["5xx"] for r in rows)
        all_5xx += five
        orders = metric(summary, "orders_created", "count", 0)
        conflicts = metric(summary, "stock_conflicts", "count", 0)
        search = next((r for r in rows if r["ep"] == "search"), None)
        if search:
            search_p95[level] = search["p95"]
        p(
            f"### Mixed personas, {level} VUs, {args.duration} (think 0-{args.think} s): "
            f"{total / duration_s:.0f} req/s, errors {failed / total if total else 0:.2%}, 5xx {five}, "
            f"orders {orders:.0f} ({orders / duration_s:.1f}/s), out-of-stock 409s {conflicts:.0f}\n"
        )
        p(
            table(
                ["endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "5xx"],
                [
                    [
                        r["label"],
                        f"{r['rps']:.1f}",
                        f"{r['p50']:.1f}",
                        f"{r['p95']:.1f}",
                        f"{r['p99']:.1f}",
                        f"{r['failed']:.2%}",
                        r["5xx"],
                    ]
                    for r in rows
                ],  # fmt: skip
            )
        )
        p("")

    closed = []
    rates = {}
    phases = (
        ("list", "products_list", "list"),
        ("limit", "limit_list", "limit"),
        ("checkout", "order_guest", "guest flow: POST /carts, 1-3 items, POST /orders"),
        ("orders", "order_guest", "checkout only: POST /orders (guest, items)"),
        ("search", "search", "search alone"),
    )
    search_alone = None
    for label, ep, title in phases:
        summary = load(out / f"k6-{label}.json")
        if summary is None:
            continue
        rows = endpoint_rows(summary, short_s)
        all_5xx += sum(r["5xx"] for r in rows)
        if label in ("checkout", "orders"):
            rates[label] = metric(summary, "orders_created", "count", 0) / short_s
            for r in rows:
                name = f"{title}: {r['label']}" if label == "checkout" else title
                closed.append(
                    [
                        name,
                        f"{r['rps']:.1f}",
                        f"{r['p50']:.1f}",
                        f"{r['p95']:.1f}",
                        f"{r['p99']:.1f}",
                        f"{r['failed']:.2%}",
                        r["5xx"],
                    ]  # fmt: skip
                )
            continue
        row = next((r for r in rows if r["ep"] == ep), None)
        if row is None:
            continue
        rates[label] = row["rps"]
        if label == "search":
            search_alone = row
            row = {**row, "label": f"GET /search/products alone (open model, {row['rps']:.0f}/s)"}
        closed.append(
            [
                row["label"],
                f"{row['rps']:.1f}",
                f"{row['p50']:.1f}",
                f"{row['p95']:.1f}",
                f"{row['p99']:.1f}",
                f"{row['failed']:.2%}",
                row["5xx"],
            ]  # fmt: skip
        )
    if closed:
        p(f"### Closed loops (8 VUs, no think time, {args.short} each) and search alone\n")
        p(table(["endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "5xx"], closed))
        p("")
    cpu = cpu_per_order(out, ("checkout", "orders"), short_s, rates)
    if cpu:
        p("### CPU per order, by part of the stack (ms; closed loops, until the consumers are idle)\n")
        p(table(["part", *cpu["labels"]], cpu["rows"]))
        p("")

    before, after_load, after = (load(out / f"{n}.json") for n in ("before", "after-load", "after"))
    stock = stock_check(before["now"]) if before else {}
    queries = load(out / "queries.json") or {}
    if queries:
        p("### SQL queries per request (one request each, after the load)\n")
        p(table(["endpoint", "queries"], [[k, v] for k, v in queries.items()]))
        p("")

    p("### Targets (2-core machine; printed, not asserted)\n")
    fraction = rates["list"] / rates["limit"] if rates.get("limit") and rates.get("list") else None
    list_queries = queries.get("GET /products?limit=12")

    def verdict(good):
        return "met" if good else "NOT met"

    rows = []
    if fraction is not None:
        rows.append(
            [
                "product list / bare-Django limit",
                f"{fraction:.2f} ({rates['list']:.0f} / {rates['limit']:.0f} req/s)",
                f">= {TARGETS['list_fraction']}",
                verdict(fraction >= TARGETS["list_fraction"]),
            ]  # fmt: skip
        )
    if list_queries is not None:
        rows.append(
            [
                "product list SQL queries/request",
                list_queries,
                f"<= {TARGETS['list_queries']}",
                verdict(list_queries <= TARGETS["list_queries"]),
            ]  # fmt: skip
        )
    if search_alone:
        rows.append(
            [
                "search p95, 50k products, alone",
                f"{search_alone['p95']:.0f} ms at {search_alone['rps']:.0f} req/s",
                f"<= {TARGETS['search_p95_ms']:.0f} ms",
                verdict(search_alone["p95"] <= TARGETS["search_p95_ms"]),
            ]  # fmt: skip
        )
    if search_p95:
        ordered = sorted(search_p95, key=int)
        levels = ", ".join(f"{search_p95[k]:.0f} ms at {k} VUs" for k in ordered)
        good = [k for k in ordered if search_p95[k] <= TARGETS["search_p95_ms"]]
        if len(good) == len(ordered):
            mixed_verdict = "met"
        elif good:
            mixed_verdict = f"met at {', '.join(good)} VUs only"
        else:
            mixed_verdict = "NOT met"
        rows.append(
            [
                "search p95, 50k products (mixed load)",
                levels,
                f"<= {TARGETS['search_p95_ms']:.0f} ms",
                mixed_verdict,
            ]  # fmt: skip
        )
    for label, title in (("orders", "guest checkout, POST /orders"), ("checkout", "guest flow (cart, items, order)")):
        if label in rates:
            rows.append(
                [
                    title,
                    f"{rates[label]:.1f} orders/s",
                    f">= {TARGETS['checkout_orders_per_s']:.0f} orders/s",
                    verdict(rates[label] >= TARGETS["checkout_orders_per_s"]),
                ]  # fmt: skip
            )
    rows.append(["5xx responses (every run)", all_5xx, "0", verdict(all_5xx == 0)])
    if stock:
        rows.append(["oversold units", stock["oversold_units"], "0", verdict(stock["oversold_units"] == 0)])
    p(table(["target", "measured", "target", "verdict"], rows))
    p("")

    if stock:
        p("### Orders and stock (read from the databases)\n")
        backlog_end = sum((after_load or {}).get("outbox_backlog", {}).values())
        backlog_drained = sum((after or {}).get("outbox_backlog", {}).values())
        p(
            table(
                ["check", "value"],
                [
                    ["orders created during the runs", stock["orders_created"]],
                    ["units in those orders", stock["units_ordered"]],
                    ["units taken from stock (ledger, ORDER - ORDER_CANCELLED)", stock["units_taken"]],
                    ["oversold units", stock["oversold_units"]],
                    ["variants whose stock differs from their ledger", stock["ledger_mismatch_variants"]],
                    ["variants with negative stock", stock["negative_stock_variants"]],
                    ["outbox backlog at the end of the load", backlog_end],
                    [f"outbox backlog {args.drain}s later", backlog_drained],
                ],
            )
        )
        p("")

    components = component_lines(out)
    if components:
        p("### Component benchmarks (bench/events_*, search_*, orders_*)\n")
        p(table(["benchmark", "result"], [list(r) for r in components], align=["<", "<"]))
        p("")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("snapshot")
    rep = sub.add_parser("report")
    rep.add_argument("out")
    rep.add_argument("--levels", default="10 25 50")
    rep.add_argument("--duration", default="40s")
    rep.add_argument("--short", default="20s")
    rep.add_argument("--think", default="0.5")
    rep.add_argument("--drain", default=os.environ.get("BENCH_DRAIN_SECONDS", "10"))
    args = parser.parse_args()
    if args.command == "snapshot":
        print(json.dumps(snapshot()))
    else:
        report(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
