// The shop's traffic, four personas in one run (k6; started by bench/run.sh).
//
//   window shopper    category menu, product list pages (some filtered by category), product detail
//   search customer   GET /search/products with a word and filters (category, price, colour, stock)
//   guest buyer       POST /carts, add 1-3 items, POST /orders as a guest
//   registered buyer  (sign up once per VU), login, cart, add items, associate, checkout with the cart,
//                     my orders
//
// Environment:
//   BASE_URL   http://127.0.0.1:8000
//   MODE       mixed (the four personas, VUS split 50/25/15/10)
//              list | limit (closed loop on GET /products or on the bare-Django reference view)
//              checkout (closed loop of guest buyers: cart, items, order)
//              orders (closed loop of POST /orders by guests, items in the body: orders per second)
//              search (the search customer's queries alone, RATE per second: an open model, so
//              latency is the service time at that rate, not a queue behind a closed loop)
//   VUS        virtual users (default 10)        DURATION  e.g. 40s (default 30s)
//   RATE       requests per second in the search mode (default 20)
//   THINK      maximum think time between steps in seconds (default 0.5; 0 = closed loop)
//   SUMMARY    where handleSummary writes the JSON summary (default summary.json)
//   RUN_ID     makes the registered buyers' e-mails unique per run
import http from "k6/http";
import { check, fail, sleep } from "k6";
import { Counter } from "k6/metrics";

const BASE = __ENV.BASE_URL || "http://127.0.0.1:8000";
const MODE = __ENV.MODE || "mixed";
const VUS = parseInt(__ENV.VUS || "10", 10);
const DURATION = __ENV.DURATION || "30s";
const THINK = parseFloat(__ENV.THINK || "0.5");
const RATE = parseInt(__ENV.RATE || "20", 10);
const RUN_ID = __ENV.RUN_ID || `${Date.now()}`;
const JSON_HEADERS = { "Content-Type": "application/json" };

// Endpoint tags: every request carries {ep: <key>, name: <key>} so that its latency has a series.
export const ENDPOINTS = [
  "categories", "products_list", "product_detail", "search", "cart_create", "cart_add",
  "order_guest", "register", "login", "cart_associate", "order_user", "my_orders", "limit_list",
];

const serverErrors = new Counter("server_errors");
const ordersCreated = new Counter("orders_created");
const unitsOrdered = new Counter("units_ordered");
const stockConflicts = new Counter("stock_conflicts");

const ok = http.expectedStatuses({ min: 200, max: 299 });
const okOrOutOfStock = http.expectedStatuses({ min: 200, max: 299 }, 409);

function split(total) {
  // 50 / 25 / 15 / 10, at least one VU each
  const weights = { shopper: 0.5, searcher: 0.25, guest: 0.15, registered: 0.1 };
  const out = {};
  let left = total;
  for (const [name, weight] of Object.entries(weights)) {
    out[name] = Math.max(1, Math.round(total * weight));
  }
  const sum = Object.values(out).reduce((a, b) => a + b, 0);
  out.shopper = Math.max(1, out.shopper + (left - sum));
  return out;
}

function scenarios() {
  const base = { executor: "constant-vus", duration: DURATION, gracefulStop: "5s" };
  if (MODE === "list") return { list: { ...base, vus: VUS, exec: "listOnly" } };
  if (MODE === "limit") return { limit: { ...base, vus: VUS, exec: "limitOnly" } };
  if (MODE === "checkout") return { guest: { ...base, vus: VUS, exec: "guestBuyer" } };
  if (MODE === "orders") return { orders: { ...base, vus: VUS, exec: "guestOrderOnly" } };
  if (MODE === "search") {
    return {
      search: {
        executor: "constant-arrival-rate", rate: RATE, timeUnit: "1s", duration: DURATION,
        preAllocatedVUs: VUS, maxVUs: VUS * 4, gracefulStop: "5s", exec: "searchOnce",
      },
    };
  }
  const vus = split(VUS);
  return {
    shopper: { ...base, vus: vus.shopper, exec: "windowShopper" },
    searcher: { ...base, vus: vus.searcher, exec: "searchCustomer" },
    guest: { ...base, vus: vus.guest, exec: "guestBuyer" },
    registered: { ...base, vus: vus.registered, exec: "registeredBuyer" },
  };
}

// A threshold per endpoint makes k6 keep (and summarise) that endpoint's sub-metrics.
const thresholds = {};
for (const ep of ENDPOINTS) {
  thresholds[`http_req_duration{ep:${ep}}`] = ["max>=0"];
  thresholds[`http_reqs{ep:${ep}}`] = ["count>=0"];
  thresholds[`http_req_failed{ep:${ep}}`] = ["rate>=0"];
  thresholds[`server_errors{ep:${ep}}`] = ["count>=0"];
}

export const options = {
  scenarios: scenarios(),
  thresholds,
  setupTimeout: "120s",
  summaryTrendStats: ["avg", "med", "p(95)", "p(99)", "max", "count"],
  discardResponseBodies: false,
  noConnectionReuse: false,
  userAgent: "shop-bench/k6",
};

function think() {
  if (THINK > 0) sleep(Math.random() * THINK);
}

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

let warnings = 0; // per VU: the first unexpected answers go to the log, for diagnosis

function request(method, path, body, ep, { token = null, expected = ok } = {}) {
  const headers = token ? { ...JSON_HEADERS, Authorization: `Bearer ${token}` } : JSON_HEADERS;
  const params = { headers, tags: { ep, name: ep }, responseCallback: expected };
  const payload = body === null ? null : JSON.stringify(body);
  const res = http.request(method, `${BASE}${path}`, payload, params);
  if (res.status >= 500 || res.status === 0) serverErrors.add(1, { ep });
  const fine = res.status >= 200 && res.status < 300 || (expected === okOrOutOfStock && res.status === 409);
  if (!fine && warnings < 3) {
    warnings += 1;
    console.warn(`${ep}: ${method} ${path} -> ${res.status} ${String(res.body).slice(0, 200)}`);
  }
  return res;
}

function json(res) {
  try {
    return res.json();
  } catch (e) {
    return null;
  }
}

// --- setup: what the personas pick from, read through the API like a client would ----------
// The checkout loops ("checkout", "orders") measure how many orders the stack can take, so they
// buy variants with ample stock: the bench's catalogue is reused from run to run, and the variants
// of the pages sampled below run low (9 % of the 03:18 run's checkouts were refused for stock).
// The mixed load keeps every variant in stock, refusals included, as a shop sees them.
const AMPLE_STOCK = 50;

function buyable(data) {
  return (MODE === "checkout" || MODE === "orders") && data.stocked.length ? data.stocked : data.variants;
}

export function setup() {
  const products = [];
  const variants = [];
  const stocked = [];
  const words = new Set();
  const colors = new Set();
  const first = json(http.get(`${BASE}/products?limit=100&page=1`));
  if (!first || !first.pagination) fail(`GET /products failed during setup`);
  const pages = Math.max(1, first.pagination.totalPages);
  const sample = [1, 2, 3, Math.ceil(pages / 4), Math.ceil(pages / 2), Math.ceil((3 * pages) / 4), pages];
  for (const page of [...new Set(sample)]) {
    const body = page === 1 ? first : json(http.get(`${BASE}/products?limit=100&page=${page}`));
    for (const p of (body && body.data) || []) {
      if (!p.isActive) continue;
      products.push(p.id);
      for (const w of p.name.toLowerCase().split(/[^a-z]+/)) if (w.length > 3) words.add(w);
      for (const v of p.variants) {
        if (v.attributes && v.attributes.color) colors.add(String(v.attributes.color));
        if (v.stockQuantity > 0) variants.push({ productId: p.id, variantId: v.id, stock: v.stockQuantity });
        if (v.stockQuantity >= AMPLE_STOCK) stocked.push({ productId: p.id, variantId: v.id, stock: v.stockQuantity });
      }
    }
  }
  const categories = json(http.get(`${BASE}/products/categories`)) || [];
  const slugs = categories.map((c) => c.slug);
  const leafSlugs = categories.filter((c) => c.isLeaf).map((c) => c.slug);
  if (!variants.length) fail("no variant in stock to buy");
  return {
    products,
    variants,
    stocked,
    words: [...words].slice(0, 200),
    colors: [...colors],
    slugs,
    leafSlugs: leafSlugs.length ? leafSlugs : slugs,
    pages,
  };
}

// --- personas ------------------------------------------------------------------------------
export function windowShopper(data) {
  request("GET", "/products/categories?format=tree", null, "categories");
  think();
  for (let i = 0; i < 3; i++) {
    let path = `/products?page=${1 + Math.floor(Math.random() * 20)}&limit=12`;
    if (Math.random() < 0.4) path += `&categorySlug=${pick(data.slugs)}`;
    const list = json(request("GET", path, null, "products_list"));
    think();
    const ids = list && list.data && list.data.length ? list.data.map((p) => p.id) : data.products;
    request("GET", `/products/id/${pick(ids)}`, null, "product_detail");
    think();
  }
}

export function searchOnce(data) {
  const params = [`q=${encodeURIComponent(pick(data.words))}`, "limit=24"];
  if (Math.random() < 0.5) params.push(`category=${pick(data.slugs)}`);
  if (Math.random() < 0.4) params.push("minPrice=20", "maxPrice=300");
  if (Math.random() < 0.3 && data.colors.length) params.push(`attributes[color][]=${pick(data.colors)}`);
  if (Math.random() < 0.3) params.push("inStock=true");
  if (Math.random() < 0.2) params.push("sortBy=price", "sortOrder=asc");
  request("GET", `/search/products?${params.join("&")}`, null, "search");
}

export function searchCustomer(data) {
  for (let i = 0; i < 3; i++) {
    searchOnce(data);
    think();
  }
}

function fillCart(data, token) {
  const cart = json(request("POST", "/carts", null, "cart_create", { token }));
  if (!cart || !cart.id) return null;
  const lines = [];
  const count = 1 + Math.floor(Math.random() * 3);
  for (let i = 0; i < count; i++) {
    think();
    const v = pick(buyable(data));
    const quantity = 1 + Math.floor(Math.random() * 2);
    const res = request(
      "POST",
      `/carts/${cart.id}/items`,
      { productId: v.productId, variantId: v.variantId, quantity },
      "cart_add",
      { token, expected: okOrOutOfStock },
    );
    if (res.status === 200 || res.status === 201) lines.push({ productId: v.productId, variantId: v.variantId, quantity });
    else if (res.status === 409) stockConflicts.add(1, { ep: "cart_add" });
  }
  return { cartId: cart.id, lines };
}

function recordOrder(res, ep) {
  if (res.status === 201) {
    ordersCreated.add(1, { ep });
    const order = json(res);
    if (order && order.items) unitsOrdered.add(order.items.reduce((a, i) => a + i.quantity, 0), { ep });
  } else if (res.status === 409) {
    stockConflicts.add(1, { ep });
  }
  check(res, { "order created or out of stock": (r) => r.status === 201 || r.status === 409 });
}

const ADDRESS = {
  country: "PT", firstName: "Ana", lastName: "Bench", address: "Rua do Teste 1", postalCode: "1000-001",
  city: "Lisboa",
};

export function guestBuyer(data) {
  const filled = fillCart(data, null);
  if (!filled || !filled.lines.length) return;
  think();
  const body = {
    items: filled.lines,
    phone: "+351912345678",
    guestEmail: `guest${__VU}@example.com`,
    guestName: "Guest Bench",
    shippingAddress: ADDRESS,
    paymentMethod: "CASH_ON_DELIVERY",
  };
  recordOrder(request("POST", "/orders", body, "order_guest", { expected: okOrOutOfStock }), "order_guest");
  think();
}

// The checkout endpoint alone: a guest order of 1-3 lines straight from the product page
// (POST /orders with items, no cart), back to back.
export function guestOrderOnly(data) {
  const items = [];
  const count = 1 + Math.floor(Math.random() * 3);
  for (let i = 0; i < count; i++) {
    const v = pick(buyable(data));
    if (!items.some((l) => l.variantId === v.variantId)) items.push({ productId: v.productId, variantId: v.variantId, quantity: 1 });
  }
  const body = {
    items, phone: "+351912345678", guestEmail: `guest${__VU}@example.com`, guestName: "Guest Bench",
    shippingAddress: ADDRESS, paymentMethod: "CASH_ON_DELIVERY",
  };
  recordOrder(request("POST", "/orders", body, "order_guest", { expected: okOrOutOfStock }), "order_guest");
}

let account = null; // each registered buyer VU signs up once (a new customer), then logs in per visit

export function registeredBuyer(data) {
  if (account === null) {
    const email = `bench-${RUN_ID}-${__VU}@example.com`;
    const password = "bench-password-123";
    const res = request("POST", "/auth/register", { name: `Bench ${__VU}`, email, password }, "register");
    if (res.status !== 201) return;
    account = { email, password };
  }
  const user = account;
  think();
  const login = json(request("POST", "/auth/login", { email: user.email, password: user.password }, "login"));
  if (!login || !login.token) return;
  const token = login.token;
  think();
  const filled = fillCart(data, null); // browsing anonymously, then logging in: the shop associates
  if (!filled || !filled.lines.length) return;
  think();
  const merged = json(request("POST", "/carts/associate", { cartId: filled.cartId }, "cart_associate", { token }));
  think();
  const cartId = merged && merged.id ? merged.id : filled.cartId;
  const body = { cartId, phone: "+351912345678", shippingAddress: ADDRESS, paymentMethod: "CREDIT_CARD" };
  recordOrder(request("POST", "/orders", body, "order_user", { token, expected: okOrOutOfStock }), "order_user");
  think();
  request("GET", "/orders/my-orders?page=1&limit=10", null, "my_orders", { token });
  think();
}

export function listOnly() {
  request("GET", `/products?page=${1 + Math.floor(Math.random() * 20)}&limit=12`, null, "products_list");
}

export function limitOnly() {
  request("GET", `/bench/limit/products?page=${1 + Math.floor(Math.random() * 20)}&limit=12`, null, "limit_list");
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY || "summary.json"]: JSON.stringify(data) };
}
