"""A realistic demo catalogue, generated deterministically (same seed → same catalogue).

Three levels of categories, products in the leaves, variants by colour and size, stock, and
images named ``/images/images/demo-<n>.jpg`` (``seed_demo`` draws these files once).
"""

import random
from decimal import Decimal

DEMO_IMAGE_COUNT = 24

# root → {child: [leaves]}; every leaf gets products.
TREE = {
    "Clothing": {
        "Men": ["Shirts", "T-shirts", "Trousers", "Jackets"],
        "Women": ["Dresses", "Tops", "Skirts", "Jeans"],
        "Kids": ["Boys", "Girls"],
    },
    "Shoes": {"Men's shoes": ["Sneakers", "Boots"], "Women's shoes": ["Heels", "Flats"]},
    "Electronics": {
        "Phones": ["Smartphones", "Phone cases"],
        "Computers": ["Laptops", "Tablets"],
        "Audio": ["Headphones", "Speakers"],
    },
    "Home": {"Kitchen": ["Cookware", "Utensils"], "Decor": ["Lamps", "Cushions"]},
    "Sports": {"Fitness": ["Yoga", "Weights"], "Outdoor": ["Camping", "Cycling"]},
}

NOUNS = {
    "Shirts": ["Oxford shirt", "Linen shirt", "Flannel shirt", "Denim shirt"],
    "T-shirts": ["Crew tee", "V-neck tee", "Pocket tee", "Graphic tee"],
    "Trousers": ["Chinos", "Cargo trousers", "Wool trousers", "Joggers"],
    "Jackets": ["Bomber jacket", "Rain jacket", "Puffer jacket", "Denim jacket"],
    "Dresses": ["Wrap dress", "Midi dress", "Shirt dress", "Maxi dress"],
    "Tops": ["Blouse", "Tank top", "Knit top", "Camisole"],
    "Skirts": ["Pleated skirt", "Pencil skirt", "Denim skirt", "Wrap skirt"],
    "Jeans": ["Skinny jeans", "Straight jeans", "Mom jeans", "Flared jeans"],
    "Boys": ["Hoodie", "Shorts", "Sweatshirt", "Polo"],
    "Girls": ["Leggings", "Cardigan", "Sundress", "Raincoat"],
    "Sneakers": ["Runner", "Court sneaker", "High-top", "Trail runner"],
    "Boots": ["Chelsea boot", "Hiking boot", "Work boot", "Desert boot"],
    "Heels": ["Pump", "Block heel", "Slingback", "Mule"],
    "Flats": ["Ballet flat", "Loafer", "Espadrille", "Sandal"],
    "Smartphones": ["Phone 12", "Phone Pro", "Phone Lite", "Phone Max"],
    "Phone cases": ["Silicone case", "Wallet case", "Rugged case", "Clear case"],
    "Laptops": ["Ultrabook 13", "Workstation 15", "Chromebook", "Gaming laptop"],
    "Tablets": ["Tablet 10", "Tablet mini", "Drawing tablet", "E-reader"],
    "Headphones": ["Over-ear headphones", "Earbuds", "Studio monitors", "Sport earphones"],
    "Speakers": ["Bluetooth speaker", "Soundbar", "Smart speaker", "Bookshelf speaker"],
    "Cookware": ["Frying pan", "Stock pot", "Dutch oven", "Wok"],
    "Utensils": ["Chef's knife", "Spatula set", "Cutting board", "Whisk"],
    "Lamps": ["Desk lamp", "Floor lamp", "Bedside lamp", "Pendant lamp"],
    "Cushions": ["Velvet cushion", "Linen cushion", "Floor cushion", "Outdoor cushion"],
    "Yoga": ["Yoga mat", "Yoga block", "Yoga strap", "Yoga towel"],
    "Weights": ["Dumbbell", "Kettlebell", "Weight plate", "Resistance band"],
    "Camping": ["Tent", "Sleeping bag", "Camping stove", "Headlamp"],
    "Cycling": ["Bike helmet", "Bike light", "Cycling gloves", "Water bottle"],
}
ADJECTIVES = [
    "Classic",
    "Essential",
    "Premium",
    "Urban",
    "Everyday",
    "Heritage",
    "Studio",
    "Nordic",
    "Coastal",
    "Alpine",
]
COLORS = ["Black", "White", "Navy", "Grey", "Red", "Green", "Beige", "Blue"]
SIZES = {
    "Clothing": ["XS", "S", "M", "L", "XL"],
    "Shoes": ["38", "39", "40", "41", "42", "43", "44"],
    "Electronics": ["64GB", "128GB", "256GB"],
    "Home": ["Small", "Medium", "Large"],
    "Sports": ["S", "M", "L"],
}
PRICE_RANGES = {
    "Clothing": (15, 120),
    "Shoes": (40, 180),
    "Electronics": (25, 1600),
    "Home": (10, 250),
    "Sports": (8, 300),
}


def slugify(name):
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower().replace("'", "")).strip("-").replace("--", "-")


def category_rows():
    """``[(name, slug, parent_slug)]`` parents first."""
    rows = []
    for root, children in TREE.items():
        rows.append((root, slugify(root), None))
        for child, leaves in children.items():
            rows.append((child, slugify(child), slugify(root)))
            for leaf in leaves:
                slug = f"{slugify(child)}-{slugify(leaf)}" if leaf in ("Boys", "Girls") else slugify(leaf)
                rows.append((leaf, slug, slugify(child)))
    return rows


def leaves():
    """``[(leaf_slug, leaf_name, root_name)]``."""
    found = []
    for root, children in TREE.items():
        for child, names in children.items():
            for leaf in names:
                slug = f"{slugify(child)}-{slugify(leaf)}" if leaf in ("Boys", "Girls") else slugify(leaf)
                found.append((slug, leaf, root))
    return found


def image_url(n):
    return f"/images/images/demo-{n % DEMO_IMAGE_COUNT + 1}.jpg"


def product_item(n, leaf, rng=None):
    """The ``n``-th demo product (deterministic) in ``leaf`` = ``(slug, name, root)``."""
    rng = rng or random.Random(n)
    slug, leaf_name, root = leaf
    noun = NOUNS[leaf_name][n % len(NOUNS[leaf_name])]
    adjective = ADJECTIVES[(n // len(NOUNS[leaf_name])) % len(ADJECTIVES)]
    low, high = PRICE_RANGES[root]
    base = Decimal(rng.randint(low * 100, high * 100)) / 100
    base = base.quantize(Decimal("1")) - Decimal("0.10") if base > 1 else base
    colors = rng.sample(COLORS, k=rng.randint(1, 3))
    sizes = rng.sample(SIZES[root], k=min(len(SIZES[root]), rng.randint(1, 3)))
    variants = []
    for color in colors:
        for size_index, size in enumerate(sorted(sizes, key=SIZES[root].index)):
            price = base + Decimal(size_index * 5) if root == "Electronics" else base
            variants.append(
                {
                    "attributes": {"color": color, "size": size},
                    "price": price.quantize(Decimal("0.01")),
                    "cost_price": (price * Decimal("0.55")).quantize(Decimal("0.01")),
                    "low_stock_threshold": 5,
                    "initial_stock_quantity": rng.choice([0, 3, 8, 12, 25, 40, 60, 100]),
                }
            )
    return {
        "sku": f"DEMO-{n:06d}",
        "name": f"{adjective} {noun}",
        "description": (
            f"{adjective} {noun.lower()} from our {leaf_name.lower()} range. "
            f"Available in {', '.join(c.lower() for c in colors)}."
        ),
        "is_active": n % 25 != 0,
        "category_slugs": [slug],
        "variants": variants,
        "images": [
            {"image_url": image_url(n), "alt_text": f"{adjective} {noun}", "is_primary": True, "order": 0},
            {"image_url": image_url(n + 7), "alt_text": f"{adjective} {noun}, detail", "order": 1},
        ],
    }
