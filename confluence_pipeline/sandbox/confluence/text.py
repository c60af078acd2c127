"""Word lists, sentences and code snippets for generated page bodies."""

from __future__ import annotations

import random

_NOUNS = (
    "service",
    "cluster",
    "deployment",
    "dashboard",
    "alert",
    "runbook",
    "customer",
    "invoice",
    "schema",
    "migration",
    "release",
    "incident",
    "endpoint",
    "token",
    "queue",
    "replica",
    "budget",
    "roadmap",
    "ticket",
    "backlog",
)
_VERBS = (
    "restart",
    "monitor",
    "deploy",
    "review",
    "rotate",
    "approve",
    "migrate",
    "escalate",
    "document",
    "measure",
    "archive",
    "validate",
)
_ADJECTIVES = (
    "critical",
    "stale",
    "regional",
    "primary",
    "read-only",
    "temporary",
    "quarterly",
    "encrypted",
    "noisy",
    "flaky",
)
_TAILS = (
    "before the next release",
    "during the maintenance window",
    "when the error rate exceeds 2%",
    "after the on-call handover",
    "if the health check fails",
    "as agreed in the last review",
    "for every customer in the EU region",
)

CODE_SNIPPETS: tuple[tuple[str, str], ...] = (
    (
        "python",
        "def retry(fn, attempts=3):\n"
        "    for i in range(attempts):\n"
        "        try:\n"
        "            return fn()\n"
        "        except IOError as exc:\n"
        "            if i == attempts - 1 and not isinstance(exc, TimeoutError):\n"
        "                raise\n"
        "    return None  # 1 < 2 && 3 > 2\n",
    ),
    (
        "bash",
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n"
        'if [[ $# -lt 1 ]]; then echo "usage: $0 <env>" >&2; exit 1; fi\n'
        'kubectl rollout restart deploy/billing -n "$1" && \\\n'
        '  kubectl rollout status deploy/billing -n "$1" 2>&1 | tee /tmp/out.log\n',
    ),
    (
        "java",
        "public final class Greeter {\n"
        "    public static <T extends Comparable<T>> T max(List<T> items) {\n"
        "        T best = null;\n"
        "        for (T item : items) {\n"
        "            if (best == null || item.compareTo(best) > 0) best = item;\n"
        "        }\n"
        "        return best; // a && b\n"
        "    }\n"
        "}\n",
    ),
    (
        "sql",
        "SELECT c.id, c.name, SUM(i.amount) AS total\n"
        "FROM customers c\n"
        "JOIN invoices i ON i.customer_id = c.id\n"
        "WHERE i.created_at >= '2024-01-01' AND i.amount < 10000\n"
        "GROUP BY c.id, c.name\n"
        "HAVING SUM(i.amount) <> 0\n"
        "ORDER BY total DESC;\n",
    ),
    (
        "xml",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<config>\n"
        '  <entry key="url">https://example.com/?a=1&amp;b=2</entry>\n'
        "  <!-- keep < and & escaped -->\n"
        "</config>\n",
    ),
    (
        "json",
        "{\n"
        '  "name": "billing",\n'
        '  "replicas": 3,\n'
        '  "query": "a < b && c > d",\n'
        '  "labels": {"team": "payments & risk"}\n'
        "}\n",
    ),
    (
        "yaml",
        "services:\n"
        "  api:\n"
        "    image: registry.example.com/api:1.4.2\n"
        '    command: ["sh", "-c", "test $LEVEL -lt 3 && run"]\n'
        "    environment:\n"
        "      - RATIO=<auto>\n",
    ),
    (
        "go",
        "func Sum(xs []int) (total int) {\n"
        "\tfor _, x := range xs {\n"
        "\t\tif x < 0 && total > 0 {\n"
        "\t\t\tcontinue\n"
        "\t\t}\n"
        "\t\ttotal += x\n"
        "\t}\n"
        "\treturn\n"
        "}\n",
    ),
)

EMOTICONS = ("smile", "sad", "cheeky", "laugh", "wink", "thumbs-up", "thumbs-down", "tick", "cross")
STATUS_COLOURS = ("Green", "Yellow", "Red", "Blue", "Grey")
STATUS_TITLES = ("DONE", "IN PROGRESS", "BLOCKED", "ON TRACK", "AT RISK", "DRAFT")
IMAGE_FILES = ("architecture.png", "flow-diagram.png", "screenshot 2024-03-01.png", "chart.jpg")
EXTERNAL_LINKS = (
    ("https://example.com/docs/getting-started", "the getting-started guide"),
    ("https://status.example.com/?region=eu&view=full", "the status page"),
    ("https://github.com/example/repo/issues/42", "issue #42"),
)
PANELS = ("info", "note", "warning", "tip")


def words(rng: random.Random, count: int) -> list[str]:
    pool = (_NOUNS, _VERBS, _ADJECTIVES)
    return [rng.choice(rng.choice(pool)) for _ in range(count)]


def sentence(rng: random.Random) -> str:
    """A plain-text sentence (no markup, no characters that need escaping)."""
    subject = f"the {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    text = f"{rng.choice(('We', 'The on-call engineer', 'Each team', 'You'))} should "
    text += f"{rng.choice(_VERBS)} {subject} {rng.choice(_TAILS)}."
    return text


def noun_phrase(rng: random.Random) -> str:
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
