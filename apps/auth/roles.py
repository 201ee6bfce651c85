"""The contract's seeded permissions and roles (used by the data migration and by tests)."""

PERMISSIONS = {
    "read:user": "List and view users",
    "write:user": "Change users' names and roles, reactivate users",
    "delete:user": "Deactivate users",
    "read:role": "View roles and permissions",
    "write:role": "Create, change and delete roles",
    "create:product": "Create products",
    "update:product": "Change products, variants, images and category links",
    "delete:product": "Delete products",
    "create:category": "Create categories",
    "update:category": "Change categories",
    "delete:category": "Delete categories",
    "adjust:stock": "Adjust stock and read stock history",
    "read:order": "List and view all orders",
    "update:order": "Change the status of orders",
    "read:my-orders": "List one's own orders",
    "create:order": "Place orders",
}

ROLES = {
    "ADMIN": ("Full access", list(PERMISSIONS)),
    "Supervisor": ("Runs daily operations", ["read:user", "read:order", "update:order", "adjust:stock"]),
    "Support": ("Answers customers", ["read:user", "read:order"]),
    "Auditor": ("Read-only oversight", ["read:user", "read:role", "read:order"]),
    "Customer": ("Shop customer (default for registration)", ["read:my-orders", "create:order"]),
}
