"""Whole pages (``pages/*.xml``) and what must survive their conversion."""

from __future__ import annotations

from . import Case, page

PAGES: list[Case] = [
    page(
        "incident-runbook",
        contains=(
            "> **Info:** This runbook covers **checkout-api** latency incidents.",
            "@user(557058:0f1e2d3c-4b5a-6978-8091-a2b3c4d5e6f7)",
            "2024-11-04",
            "checkout dashboard",
            "[the deploy log](https://deploys.example.com/checkout-api)",
            "Before you roll back",
            "#incidents",
            "slow_queries.sql",
            "Example stack trace",
            "VERIFIED",
            "`kubectl scale deploy/checkout-api --replicas=12`",
        ),
        lines=(
            "## Symptoms",
            "## Diagnosis",
            "## Mitigation",
            "- p99 latency above `800ms` for 5 minutes",
            "1. Check pod health:",
            "2. Look for slow queries (anything over 2 s):",
        ),
        code=(
            (
                "bash",
                "kubectl -n checkout get pods -l app=checkout-api\n"
                "kubectl -n checkout top pods | sort -k3 -h | tail -5",
            ),
            (
                "sql",
                "SELECT pid, now() - query_start AS duration, query\nFROM pg_stat_activity\n"
                "WHERE state = 'active' AND now() - query_start > interval '2 seconds'\n"
                "ORDER BY duration DESC;",
            ),
            (
                "bash",
                "helm rollback checkout-api 0 --namespace checkout --wait\n# verify\n"
                'curl -fsS https://checkout.internal/health && echo "ok"',
            ),
            (
                "",
                "ERROR [pool-3-thread-7] c.e.checkout.PaymentClient - timeout after 3000ms\n"
                "    at com.example.checkout.PaymentClient.charge(PaymentClient.java:118)\n"
                "    at com.example.checkout.OrderService.place(OrderService.java:64)",
            ),
        ),
        tables=(
            (
                ("Level", "Who", "When"),
                ("L1", "@user(557058:aaaa1111)", "Immediately"),
                ("L2", "Database on-call", "After 15 minutes"),
                ("L3", "Head of Platform", "Customer impact > 30 minutes"),
            ),
        ),
        order=("Symptoms", "Diagnosis", "Mitigation", "Escalation", "Known log lines"),
        absent=("Green", "minLevel", "outline", "Midnight"),
    ),
    page(
        "meeting-notes",
        lines=(
            "## Date",
            "2024-10-17",
            "- @user(557058:11112222-aaaa)",
            "- @Priya Raman",
            "- Jonas (guest)",
            "- [ ] @user(557058:11112222-aaaa) write the migration plan by 2024-10-24",
            "- [x] Priya to share the incident timeline",
            "- [ ] Book the follow-up 🙂",
        ),
        tables=(
            (
                ("Time", "Item", "Presenter", "Notes"),
                (
                    "10 min",
                    "Migration scope",
                    "@user(557058:11112222-aaaa)",
                    "- Move **orders** and **invoices** first<br>- Search stays on the old cluster",
                ),
                (
                    "15 min",
                    "Incidents",
                    "Priya",
                    "Two P2s last week, both from the same cache eviction bug.<br>"
                    "Fix is in review.",
                ),
            ),
        ),
        contains=("Decision", "Orders migrate in the first wave"),
        absent=("5f1a-aa", "dl-1", "DECIDED"),
    ),
    page(
        "api-reference",
        contains=(
            "The Orders API creates, reads and cancels customer orders.",
            "`https://api.example.com/v2`",
            "`Authorization: Bearer <token>`",
            "> **Note:** v1 endpoints are deprecated and will be removed on 2025-03-31.",
            "curl",
            "Field: `items`",
            "Notes: At least one item. Each item:",
            "Rate limited — retry after `Retry-After` seconds.",
            "Authentication",
            "[OpenAPI spec](orders-openapi.yaml)",
        ),
        lines=("# Orders API", "## Endpoints", "### Request"),
        tables=(
            (
                ("Method", "Path", "Description"),
                ("`GET`", "`/orders/{id}`", "Fetch one order."),
                (
                    "`POST`",
                    "`/orders`",
                    "Create an order. Idempotent with the `Idempotency-Key` header.",
                ),
                ("`DELETE`", "`/orders/{id}`", "Cancel an order that has not shipped."),
            ),
            (
                ("Code", "Meaning"),
                ("400", "Validation failed; see `errors[]`."),
                ("409", "Duplicate `Idempotency-Key`."),
                ("429", "Rate limited — retry after `Retry-After` seconds."),
            ),
        ),
        code=(
            (
                "bash",
                "curl -X POST https://api.example.com/v2/orders \\\n"
                '  -H "Authorization: Bearer $TOKEN" \\\n'
                '  -H "Content-Type: application/json" \\\n'
                '  -d \'{"customer_id": "c_123", "items": [{"sku": "A-1", "qty": 2}]}\'',
            ),
            ("json", '{\n  "sku": "A-1",\n  "qty": 2\n}'),
            (
                "json",
                'HTTP/1.1 201 Created\n{\n  "id": "o_789",\n  "status": "pending",\n'
                '  "total": {"amount": 4200, "currency": "EUR"}\n}',
            ),
        ),
        order=("Field: `customer_id`", "Field: `items`", "Field: `coupon`"),
        absent=("INLINE",),
    ),
    page(
        "release-notes",
        lines=("# Release 4.2.0", "## New features", "### Web", "### iOS", "### Android"),
        contains=(
            "Released 2024-09-30 · Status: [SHIPPED]",
            "Highlights of this release",
            "At a glance",
            "12 features",
            "![Export dialog](export-dialog.png)",
            "`2024-09-30T12:00:00Z`",
            "Full changelog",
            "Upgrading to 4.x",
            "Jira query: fixVersion = 4.2.0 ORDER BY key",
        ),
        tables=(
            (
                ("Feature", "Ticket", "Status"),
                ("Bulk export to CSV", "PROD-812", "[DONE]"),
                ("Audit log", "PROD-830", "[BETA]"),
            ),
        ),
        order=("Release 4.2.0", "At a glance", "New features", "Fixed", "Web", "iOS", "Android"),
        absent=("System JIRA", "3f2e1d0c", "key,summary", "#DEEBFF", "two_right_sidebar"),
    ),
    page(
        "nested-tables",
        lines=("# Environment matrix",),
        contains=(
            "Service: payments",
            "Notes: PCI scope",
            "Failover: **eu-central-1**",
            "manual",
            "needs approval",
            "Service: search",
            "Regions: us-east-1 only",
        ),
        tables=(
            (("Region", "Replicas"), ("eu-west-1", "6"), ("us-east-1", "4")),
            (("Team", "Channel"), ("Payments", "#payments")),
        ),
        order=("payments", "eu-west-1", "PCI scope", "Failover", "search", "Contacts"),
    ),
    page(
        "space-home",
        contains=(
            "Platform Team Charter",
            "Welcome to the Platform space.",
            "Current focus: PLAT-42 (service mesh rollout).",
            "Jira query: project = PLAT AND resolution = Unresolved",
            "Questions? Ask in **#platform**.",
        ),
        lines=("## Pages", "## Open work", "## Recently updated"),
        absent=(
            "@self",
            "77aa88bb",
            "Acme Jira",
            "how-to",
            "concise",
            "nopanel",
        ),
    ),
    page(
        "how-to-article",
        lines=("1. Download the client from [the VPN portal](https://vpn.example.com/download).",),
        contains=(
            "Before you start",
            "You need an active SSO account",
            "**Preferences → Profiles**",
            "[corp-profile.ovpn](corp-profile.ovpn)",
            "![Import profile dialog](import-profile.png)",
            "Remember this device",
            "Troubleshooting",
            "Self-service password reset",
        ),
        code=(("powershell", "Invoke-RestMethod https://ifconfig.example.com | Select-Object ip"),),
        tables=(
            (
                ("Error", "Fix"),
                ("`TLS handshake failed`", "Update the client to 3.4 or later."),
                ("`AUTH_FAILED`", "Reset your password in Self-service password reset."),
            ),
        ),
        nested=(("Connect and approve", "Remember this device"),),
        absent=('label = "vpn"',),
    ),
    page(
        "product-requirements",
        tables=(
            (
                ("Target release", "Q1 2025"),
                ("Epic", "SHOP-77"),
                ("Document status", "[DRAFT]"),
                ("Document owner", "@user(557058:owner-0001)"),
                ("Designer", "@Mia Chen"),
            ),
            (("Goal", "Metric"), ("More completed checkouts", "Cart recovery rate +5%")),
            (
                ("#", "Title", "User story", "Importance", "Notes"),
                (
                    "1",
                    "Save cart",
                    "As a shopper, I want to save my cart so that I can buy later.",
                    "[MUST HAVE]",
                    "- Logged-in users only<br>- Max 50 items",
                ),
                (
                    "2",
                    "Share cart",
                    "As a shopper, I want a link to my cart.",
                    "[NICE TO HAVE]",
                    "",
                ),
            ),
        ),
        lines=("## Objective", "- Guest cart sharing"),
        contains=("*30 days, then archived*",),
        absent=("prd-props", "0badc0de", "Red", "Blue"),
    ),
    page(
        "legacy-server-page",
        lines=("# Build & release process",),
        contains=(
            "Our nightly build runs on **Jenkins** and publishes artifacts to Nexus.",
            "@user(jdoe)",
            "Release checklist",
            "[Old wiki](http://wiki.example.com/x)",
            "needs two approvals",
        ),
        code=(
            (
                "java",
                "public static void main(String[] args) {\n"
                '    System.out.println("build " + args[0]);\n}',
            ),
        ),
        nested=(("Step one", "Sub-step A"), ("Step one", "Sub-step B")),
        order=("Job", "nightly", "02:00 UTC", "release", "manual", "Step one", "Step two"),
        absent=("maxLevel", "confluenceTd", "auto-cursor-target"),
    ),
]
