"""Storage-format fragments, one feature (or one odd shape) each."""

from __future__ import annotations

from . import Case

CODE_PY = (
    "def greet(name: str) -> str:\n"
    '    if name < "m" and name != "":\n'
    '        return f"<{name}> & co"\n'
    "\n\n"
    '    return "done"'
)
CODE_BACKTICKS = "Use ``` to fence code:\n```python\nprint(1)\n```\nand ```` too"

FRAGMENTS: list[Case] = [
    # --- text, headings, inline marks ------------------------------------------------------
    Case(
        "paragraphs-and-headings",
        "<h1>Overview</h1><p>First paragraph.</p><h2>Details</h2><p>Second paragraph.</p>"
        "<h6>Fine print</h6>",
        lines=("# Overview", "## Details", "###### Fine print", "First paragraph."),
        order=("Overview", "First paragraph.", "Details", "Second paragraph.", "Fine print"),
    ),
    Case(
        "inline-marks",
        "<p><strong>bold</strong> <em>italic</em> <u>underlined</u> <s>struck</s> "
        "<code>inline_code()</code> H<sub>2</sub>O x<sup>2</sup></p>",
        contains=("**bold**", "*italic*", "underlined", "~~struck~~", "`inline_code()`", "H2O"),
        absent=("<u>", "<sub>"),
    ),
    Case(
        "entities-and-unicode",
        "<p>Caf&eacute; &amp; cr&egrave;me &rarr; na&iuml;ve &mdash; 5&nbsp;&euro; &lt;tag&gt; "
        "&#169; &#x1F680; 日本語 &hellip;</p>",
        contains=("Café & crème → naïve — 5 €", "<tag>", "©", "🚀", "日本語", "…"),
        absent=("&eacute;", "&rarr;", "&nbsp;", "&amp;"),
    ),
    Case(
        "hard-line-breaks",
        "<p>Line one<br/>line two<br />line three</p>",
        contains=("Line one", "line two", "line three"),
        order=("Line one", "line two", "line three"),
        absent=("<br",),
    ),
    Case(
        "blockquote",
        "<blockquote><p>Quoted first.</p><p>Quoted second.</p></blockquote><p>After.</p>",
        lines=("> Quoted first.", "> Quoted second.", "After."),
    ),
    Case(
        "horizontal-rule-and-alignment",
        '<p style="text-align: center;">Centered</p><hr/><p style="margin-left: 30.0px;">'
        "Indented</p>",
        lines=("Centered", "---", "Indented"),
        absent=("text-align", "margin-left"),
    ),
    Case(
        "strikethrough-span-and-legacy-marks",
        '<p><span style="text-decoration: line-through;">old price</span> new price, '
        "<b>bold</b> <i>italic</i> <del>deleted</del> <strike>gone</strike> 1&ndash;3</p>",
        contains=(
            "~~old price~~ new price",
            "**bold**",
            "*italic*",
            "~~deleted~~",
            "~~gone~~",
            "1–3",
        ),
        absent=("line-through",),
    ),
    Case(
        "link-with-image-body-and-anchor-on-another-page",
        '<p><ac:link ac:tooltip="Go home"><ri:page ri:content-title="Home" ri:space-key="SANDBOX"/>'
        '<ac:link-body><ac:image><ri:url ri:value="https://example.com/logo.png"/></ac:image>'
        '</ac:link-body></ac:link> <ac:link ac:anchor="install"><ri:page ri:content-title='
        '"Setup Guide"/><ac:plain-text-link-body><![CDATA[install steps]]>'
        '</ac:plain-text-link-body></ac:link> <ac:link ac:anchor="faq"><ri:page '
        'ri:content-title="Support"/></ac:link></p>',
        contains=("](https://example.com/logo.png)", "install steps", "Support"),
        absent=("Go home", "SANDBOX"),
    ),
    Case(
        "colored-and-highlighted-spans",
        '<p><span style="color: rgb(255,0,0);">red text</span> and '
        '<span style="background-color: rgb(248,230,160);">highlight</span> '
        "<small>small</small> <big>big</big></p>",
        contains=("red text and highlight small big",),
        absent=("rgb(", "style"),
    ),
    Case(
        "underscores-and-asterisks-in-prose",
        "<p>Set MAX_RETRY_COUNT and snake_case_name; 5 * 3 = 15.</p>",
        contains=("MAX_RETRY_COUNT", "snake_case_name", "5 * 3 = 15"),
    ),
    Case(
        "external-links",
        '<p>See <a href="https://www.atlassian.com/docs?a=1&amp;b=2">the docs</a> or mail '
        '<a href="mailto:ops@example.com">ops@example.com</a>.</p>'
        '<p><a href="https://example.com/x" data-card-appearance="inline">'
        "https://example.com/x</a></p>",
        contains=(
            "[the docs](https://www.atlassian.com/docs?a=1&b=2)",
            "ops@example.com",
            "https://example.com/x",
        ),
        absent=("data-card-appearance",),
    ),
    Case(
        "preformatted-html",
        "<pre>  indented\n    more &lt;b&gt;\n\nlast</pre>",
        code=(("", "  indented\n    more <b>\n\nlast"),),
    ),
    # --- code and noformat -----------------------------------------------------------------
    Case(
        "code-macro-language-and-cdata",
        '<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="c0ffee">'
        '<ac:parameter ac:name="language">python</ac:parameter>'
        '<ac:parameter ac:name="linenumbers">true</ac:parameter>'
        '<ac:parameter ac:name="theme">Midnight</ac:parameter>'
        f"<ac:plain-text-body><![CDATA[{CODE_PY}]]></ac:plain-text-body></ac:structured-macro>",
        code=(("python", CODE_PY),),
        absent=("Midnight", "python true", "linenumbers"),
    ),
    Case(
        "code-macro-title-and-collapse",
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="title">deploy.sh'
        '</ac:parameter><ac:parameter ac:name="language">bash</ac:parameter>'
        '<ac:parameter ac:name="collapse">true</ac:parameter><ac:plain-text-body>'
        "<![CDATA[#!/bin/bash\nset -euo pipefail\nkubectl rollout status deploy/api]]>"
        "</ac:plain-text-body></ac:structured-macro>",
        contains=("deploy.sh",),
        code=(("bash", "#!/bin/bash\nset -euo pipefail\nkubectl rollout status deploy/api"),),
        order=("deploy.sh", "```bash"),
    ),
    Case(
        "code-macro-without-language",
        '<ac:structured-macro ac:name="code" ac:schema-version="1"><ac:plain-text-body>'
        "<![CDATA[plain code block]]></ac:plain-text-body></ac:structured-macro>",
        code=(("", "plain code block"),),
    ),
    Case(
        "code-with-backtick-fences-inside",
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">markdown'
        "</ac:parameter><ac:plain-text-body><![CDATA["
        + CODE_BACKTICKS
        + "]]></ac:plain-text-body></ac:structured-macro>",
        code=(("markdown", CODE_BACKTICKS),),
        contains=("`````markdown",),
    ),
    Case(
        "code-with-split-cdata-terminator",
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">xml'
        "</ac:parameter><ac:plain-text-body><![CDATA[<a><![CDATA[x]]]]><![CDATA[></a>]]>"
        "</ac:plain-text-body></ac:structured-macro>",
        code=(("xml", "<a><![CDATA[x]]></a>"),),
    ),
    Case(
        "code-with-entities-inside-cdata-kept-literally",
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">html'
        "</ac:parameter><ac:plain-text-body><![CDATA[<p>&nbsp;&rarr; &amp;</p>]]>"
        "</ac:plain-text-body></ac:structured-macro>",
        code=(("html", "<p>&nbsp;&rarr; &amp;</p>"),),
    ),
    Case(
        "code-csharp-language-alias",
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">c#</ac:parameter>'
        "<ac:plain-text-body><![CDATA[var x = new List<int>();]]></ac:plain-text-body>"
        "</ac:structured-macro>",
        code=(("csharp", "var x = new List<int>();"),),
    ),
    Case(
        "noformat-macro",
        '<ac:structured-macro ac:name="noformat" ac:schema-version="1">'
        '<ac:parameter ac:name="nopanel">true</ac:parameter><ac:plain-text-body>'
        "<![CDATA[keeps   spacing\nand <markup> as text]]></ac:plain-text-body>"
        "</ac:structured-macro>",
        code=(("", "keeps   spacing\nand <markup> as text"),),
        absent=("nopanel",),
    ),
    Case(
        "code-macro-empty-body",
        '<p>Before</p><ac:structured-macro ac:name="code"><ac:parameter ac:name="language">'
        "java</ac:parameter><ac:plain-text-body><![CDATA[]]></ac:plain-text-body>"
        "</ac:structured-macro><p>After</p>",
        lines=("Before", "After"),
        absent=("java",),
    ),
    # --- panels, expand, status ------------------------------------------------------------
    Case(
        "info-panel",
        '<ac:structured-macro ac:name="info" ac:schema-version="1"><ac:parameter ac:name="icon">'
        "false</ac:parameter><ac:rich-text-body><p>Maintenance window is Sunday.</p>"
        "</ac:rich-text-body></ac:structured-macro>",
        contains=("> **Info:**", "Maintenance window is Sunday."),
        absent=("false",),
    ),
    Case(
        "note-panel-with-title",
        '<ac:structured-macro ac:name="note"><ac:parameter ac:name="title">Heads up'
        "</ac:parameter><ac:rich-text-body><p>Tokens expire after 24 hours.</p>"
        "<p>Rotate them weekly.</p></ac:rich-text-body></ac:structured-macro>",
        contains=("Note", "Heads up", "> Tokens expire after 24 hours.", "> Rotate them weekly."),
    ),
    Case(
        "warning-panel",
        '<ac:structured-macro ac:name="warning"><ac:rich-text-body><p>Never run this on '
        "<strong>production</strong>.</p></ac:rich-text-body></ac:structured-macro>",
        contains=("Warning:", "Never run this on **production**."),
        lines=("> **Warning:** Never run this on **production**.",),
    ),
    Case(
        "tip-panel",
        '<ac:structured-macro ac:name="tip"><ac:rich-text-body><p>Use the CLI for bulk edits.'
        "</p></ac:rich-text-body></ac:structured-macro>",
        contains=("Tip", "> ", "Use the CLI for bulk edits."),
    ),
    Case(
        "custom-panel-with-colors",
        '<ac:structured-macro ac:name="panel"><ac:parameter ac:name="bgColor">#EAE6FF'
        '</ac:parameter><ac:parameter ac:name="borderStyle">dashed</ac:parameter>'
        '<ac:parameter ac:name="title">Contacts</ac:parameter><ac:rich-text-body>'
        "<p>Ask in #platform-help.</p></ac:rich-text-body></ac:structured-macro>",
        contains=("Contacts", "> Ask in #platform-help."),
        absent=("#EAE6FF", "dashed"),
    ),
    Case(
        "panel-containing-list-task-and-code",
        '<ac:structured-macro ac:name="info"><ac:rich-text-body><ul><li><p>list item</p></li>'
        "</ul><ac:task-list><ac:task><ac:task-id>6</ac:task-id><ac:task-status>incomplete"
        "</ac:task-status><ac:task-body>panel task</ac:task-body></ac:task></ac:task-list>"
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">sql</ac:parameter>'
        "<ac:plain-text-body><![CDATA[SELECT *\nFROM t;]]></ac:plain-text-body>"
        "</ac:structured-macro></ac:rich-text-body></ac:structured-macro>",
        lines=("> - list item", "> - [ ] panel task"),
        code=(("sql", "SELECT *\nFROM t;"),),
    ),
    Case(
        "adf-panels",
        '<ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">error'
        "</ac:adf-attribute><ac:adf-content><p>Payment failed.</p></ac:adf-content>"
        "</ac:adf-node><ac:adf-fallback><div><p>Payment failed.</p></div></ac:adf-fallback>"
        '</ac:adf-extension><ac:adf-extension><ac:adf-node type="panel">'
        '<ac:adf-attribute key="panel-type">success</ac:adf-attribute><ac:adf-content>'
        "<p>All green.</p></ac:adf-content></ac:adf-node></ac:adf-extension>",
        contains=("Error:", "Payment failed.", "Success:", "All green."),
        absent=("panel-type",),
    ),
    Case(
        "expand-with-title",
        '<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Show the stack trace'
        "</ac:parameter><ac:rich-text-body><p>NullPointerException at Foo.java:42</p>"
        "</ac:rich-text-body></ac:structured-macro>",
        contains=("Show the stack trace", "NullPointerException at Foo.java:42"),
        order=("Show the stack trace", "NullPointerException"),
    ),
    Case(
        "expand-without-title-with-table",
        '<ac:structured-macro ac:name="expand"><ac:rich-text-body><p>Hidden details.</p>'
        "<table><tbody><tr><th><p>a</p></th></tr><tr><td><p>1</p></td></tr></tbody></table>"
        "</ac:rich-text-body></ac:structured-macro>",
        contains=("Hidden details.",),
        tables=((("a",), ("1",)),),
    ),
    Case(
        "status-macros-inline",
        '<p>Build: <ac:structured-macro ac:name="status" ac:schema-version="1">'
        '<ac:parameter ac:name="colour">Green</ac:parameter><ac:parameter ac:name="title">'
        "PASSING</ac:parameter></ac:structured-macro> Review: "
        '<ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Yellow'
        '</ac:parameter><ac:parameter ac:name="title">In review</ac:parameter>'
        '<ac:parameter ac:name="subtle">true</ac:parameter></ac:structured-macro></p>',
        contains=("Build:", "PASSING", "Review:", "In review"),
        order=("Build:", "PASSING", "Review:", "In review"),
        absent=("Green", "Yellow", "subtle"),
    ),
    # --- macros without text ---------------------------------------------------------------
    Case(
        "toc-children-pagetree-dropped",
        '<ac:structured-macro ac:name="toc" ac:schema-version="1"><ac:parameter ac:name="minLevel">'
        '1</ac:parameter><ac:parameter ac:name="maxLevel">2</ac:parameter></ac:structured-macro>'
        '<ac:structured-macro ac:name="children" ac:schema-version="2"><ac:parameter ac:name="all">'
        'true</ac:parameter><ac:parameter ac:name="sort">title</ac:parameter>'
        '</ac:structured-macro><ac:structured-macro ac:name="pagetree">'
        '<ac:parameter ac:name="root">'
        '<ac:link><ri:page ri:content-title="@home"/></ac:link></ac:parameter>'
        '<ac:parameter ac:name="expandCollapseAll">true</ac:parameter></ac:structured-macro>'
        "<p>Real content.</p>",
        lines=("Real content.",),
        absent=("@home", "maxLevel", "true", "title"),
    ),
    Case(
        "jira-issue-key-and-query",
        '<p>Tracked in <ac:structured-macro ac:name="jira" ac:schema-version="1">'
        '<ac:parameter ac:name="server">System JIRA</ac:parameter><ac:parameter ac:name="serverId">'
        'a1b2c3d4-0000-1111-2222-333344445555</ac:parameter><ac:parameter ac:name="key">'
        "OPS-1234</ac:parameter></ac:structured-macro> since Monday.</p>"
        '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="jqlQuery">project = HF ORDER '
        'BY created DESC</ac:parameter><ac:parameter ac:name="maximumIssues">5</ac:parameter>'
        "</ac:structured-macro>",
        lines=(
            "Tracked in OPS-1234 since Monday.",
            "Jira query: project = HF ORDER BY created DESC",
        ),
        absent=("System JIRA", "a1b2c3d4", "jqlQuery", "maximumIssues", "](", "OPS-1234]"),
    ),
    Case(
        "jira-issue-key-without-server-url",
        '<p>Tracking ticket: <ac:structured-macro ac:name="jira" ac:schema-version="1">'
        '<ac:parameter ac:name="server">Acme Jira</ac:parameter>'
        '<ac:parameter ac:name="key">PAY-4312</ac:parameter></ac:structured-macro></p>',
        lines=("Tracking ticket: PAY-4312",),
        absent=("Acme Jira", "browse"),
    ),
    Case(
        "jira-issue-key-links-to-known-server",
        '<p>Tracking ticket: <ac:structured-macro ac:name="jira" ac:schema-version="1">'
        '<ac:parameter ac:name="server">Acme Jira</ac:parameter><ac:parameter ac:name="serverId">'
        "77aa88bb-cc99-dd00-ee11-ff2233445566</ac:parameter>"
        '<ac:parameter ac:name="key">PAY-4312</ac:parameter></ac:structured-macro></p>',
        lines=("Tracking ticket: [PAY-4312](https://acme.atlassian.net/browse/PAY-4312)",),
        absent=("Acme Jira", "77aa88bb"),
        jira_url="https://acme.atlassian.net",
    ),
    Case(
        "jira-issue-key-in-heading-links-to-known-server",
        '<h2>Rollout of <ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">PAY-9'
        "</ac:parameter></ac:structured-macro></h2>",
        lines=("## Rollout of [PAY-9](https://jira.example.com/browse/PAY-9)",),
        jira_url="https://jira.example.com/",
    ),
    Case(
        "jira-query-on-one-line",
        "<p>Open work:</p>"
        '<ac:structured-macro ac:name="jira" ac:schema-version="1">'
        '<ac:parameter ac:name="server">System JIRA</ac:parameter>'
        '<ac:parameter ac:name="columns">key,summary,status</ac:parameter>'
        '<ac:parameter ac:name="jqlQuery">project = PAY\n   AND status = Open\n'
        "ORDER BY priority DESC</ac:parameter></ac:structured-macro><p>After.</p>",
        lines=("Jira query: project = PAY AND status = Open ORDER BY priority DESC",),
        order=("Open work:", "Jira query:", "After."),
        absent=("key,summary,status", "System JIRA"),
        jira_url="https://acme.atlassian.net",
    ),
    Case(
        "jiraissues-saved-search-url-gives-its-query",
        '<ac:structured-macro ac:name="jiraissues"><ac:parameter ac:name="url">'
        "https://jira.example.com/sr/jira.issueviews:searchrequest-xml/temp/SearchRequest.xml?"
        "jqlQuery=project+%3D+OPS+AND+labels+%3D+oncall&amp;tempMax=1000</ac:parameter>"
        '<ac:parameter ac:name="columns">type;key;summary</ac:parameter></ac:structured-macro>',
        lines=("Jira query: project = OPS AND labels = oncall",),
        absent=("tempMax", "searchrequest", "type;key"),
    ),
    Case(
        "jirachart-gives-its-query",
        '<ac:structured-macro ac:name="jirachart"><ac:parameter ac:name="chartType">pie'
        '</ac:parameter><ac:parameter ac:name="jql">project%20%3D%20PAY%20AND%20type%20%3D%20Bug'
        '</ac:parameter><ac:parameter ac:name="statType">statuses</ac:parameter>'
        "</ac:structured-macro>",
        lines=("Jira chart: project = PAY AND type = Bug",),
        absent=("pie", "statuses", "%20"),
    ),
    Case(
        "jira-macro-without-key-or-query-leaves-nothing",
        '<p>See <ac:structured-macro ac:name="jira"><ac:parameter ac:name="server">System JIRA'
        '</ac:parameter><ac:parameter ac:name="key">not a key</ac:parameter>'
        "</ac:structured-macro>board.</p>",
        lines=("See board.",),
        absent=("System JIRA", "not a key"),
    ),
    Case(
        "profile-macro-names-its-user",
        "<h2>Owner</h2>"
        '<ac:structured-macro ac:name="profile" ac:schema-version="1"><ac:parameter ac:name="user">'
        '<ri:user ri:account-id="557058:owner-0001" /></ac:parameter></ac:structured-macro>',
        lines=("## Owner", "@user(557058:owner-0001)"),
    ),
    Case(
        "widget-and-iframe-macros-link-what-they-embed",
        '<ac:structured-macro ac:name="widget"><ac:parameter ac:name="url">'
        '<ri:url ri:value="https://www.youtube.com/watch?v=abc123" /></ac:parameter>'
        '<ac:parameter ac:name="width">640</ac:parameter></ac:structured-macro>'
        '<ac:structured-macro ac:name="iframe"><ac:parameter ac:name="src">'
        '<ri:url ri:value="https://status.example.com/" /></ac:parameter></ac:structured-macro>'
        '<ac:structured-macro ac:name="iframe"><ac:parameter ac:name="src">'
        '<ri:url ri:value="javascript:alert(1)" /></ac:parameter></ac:structured-macro>',
        lines=("<https://www.youtube.com/watch?v=abc123>", "<https://status.example.com/>"),
        absent=("640", "javascript"),
    ),
    Case(
        "anchor-macro-and-anchor-link",
        '<h2><ac:structured-macro ac:name="anchor"><ac:parameter ac:name="">rollback-steps'
        '</ac:parameter></ac:structured-macro>Rollback</h2><p><ac:link ac:anchor="rollback-steps">'
        "<ac:plain-text-link-body><![CDATA[jump to rollback]]></ac:plain-text-link-body>"
        "</ac:link></p>",
        lines=("## Rollback",),
        contains=("jump to rollback",),
        absent=("rollback-steps",),
    ),
    Case(
        "report-and-listing-macros-dropped",
        '<ac:structured-macro ac:name="recently-updated"><ac:parameter ac:name="max">5'
        '</ac:parameter></ac:structured-macro><ac:structured-macro ac:name="contentbylabel">'
        '<ac:parameter ac:name="cql">label = "runbook"</ac:parameter></ac:structured-macro>'
        '<ac:structured-macro ac:name="attachments"><ac:parameter ac:name="upload">false'
        '</ac:parameter></ac:structured-macro><ac:structured-macro ac:name="detailssummary">'
        '<ac:parameter ac:name="cql">space = OPS</ac:parameter></ac:structured-macro>'
        '<ac:structured-macro ac:name="tasks-report-macro"><ac:parameter ac:name="spaces">HF'
        "</ac:parameter></ac:structured-macro><p>Only this.</p>",
        lines=("Only this.",),
        absent=("runbook", "space = OPS", "false", "HF"),
    ),
    Case(
        "unknown-macro-keeps-body-not-parameters",
        '<ac:structured-macro ac:name="acme-fancy-box" ac:schema-version="3">'
        '<ac:parameter ac:name="theme">sunset-orange</ac:parameter>'
        '<ac:parameter ac:name="width">640px</ac:parameter><ac:rich-text-body>'
        "<p>Body of an unknown macro.</p><ul><li>kept item</li></ul></ac:rich-text-body>"
        "</ac:structured-macro>",
        contains=("Body of an unknown macro.",),
        lines=("- kept item",),
        absent=("sunset-orange", "640px"),
    ),
    Case(
        "unknown-macro-parameters-only",
        '<p>Before <ac:structured-macro ac:name="vendor-widget"><ac:parameter ac:name="url">'
        "https://widgets.example.com/embed/42</ac:parameter></ac:structured-macro> after</p>",
        contains=("Before", "after"),
        absent=("widgets.example.com",),
    ),
    Case(
        "unknown-macro-plain-text-body",
        '<ac:structured-macro ac:name="plantuml"><ac:parameter ac:name="format">SVG'
        "</ac:parameter><ac:plain-text-body><![CDATA[@startuml\nAlice -> Bob: hello\n@enduml]]>"
        "</ac:plain-text-body></ac:structured-macro>",
        code=(("plantuml", "@startuml\nAlice -> Bob: hello\n@enduml"),),
        absent=("SVG",),
    ),
    Case(
        "legacy-section-and-columns",
        '<ac:structured-macro ac:name="section"><ac:rich-text-body><ac:structured-macro '
        'ac:name="column"><ac:parameter ac:name="width">30%</ac:parameter><ac:rich-text-body>'
        "<p>Left column text.</p></ac:rich-text-body></ac:structured-macro>"
        '<ac:structured-macro ac:name="column"><ac:rich-text-body><p>Right column text.</p>'
        "</ac:rich-text-body></ac:structured-macro></ac:rich-text-body></ac:structured-macro>",
        order=("Left column text.", "Right column text."),
        absent=("30%",),
    ),
    # --- excerpts and includes -------------------------------------------------------------
    Case(
        "excerpt-keeps-body",
        '<ac:structured-macro ac:name="excerpt"><ac:parameter ac:name="hidden">true'
        '</ac:parameter><ac:parameter ac:name="atlassian-macro-output-type">BLOCK'
        "</ac:parameter><ac:rich-text-body><p>The payments service settles card transactions."
        "</p></ac:rich-text-body></ac:structured-macro>",
        lines=("The payments service settles card transactions.",),
        absent=("BLOCK", "true"),
    ),
    Case(
        "excerpt-include-references-page",
        '<ac:structured-macro ac:name="excerpt-include"><ac:parameter ac:name="">'
        '<ac:link><ri:page ri:content-title="Payments Overview" ri:space-key="PAY"/></ac:link>'
        '</ac:parameter><ac:parameter ac:name="nopanel">true</ac:parameter>'
        "</ac:structured-macro><p>Next paragraph.</p>",
        contains=("Payments Overview", "Next paragraph."),
        absent=("nopanel", "PAY"),
    ),
    Case(
        "include-page-macro",
        '<ac:structured-macro ac:name="include"><ac:parameter ac:name=""><ac:link>'
        '<ri:page ri:content-title="Shared Glossary"/></ac:link></ac:parameter>'
        "</ac:structured-macro>",
        contains=("Shared Glossary",),
    ),
    # --- lists and tasks -------------------------------------------------------------------
    Case(
        "nested-bullet-list",
        "<ul><li><p>item</p></li><li><p>parent</p><ul><li><p>nested</p><ul><li><p>third level"
        "</p></li></ul></li></ul></li></ul>",
        lines=("- item", "- parent"),
        nested=(("parent", "nested"), ("nested", "third level")),
    ),
    Case(
        "ordered-list-with-start-and-mixed-nesting",
        '<ol start="5"><li><p>five</p></li><li><p>six</p><ul><li><p>mixed bullet</p></li></ul>'
        "<ol><li><p>nested one</p></li></ol></li></ol>",
        lines=("5. five", "6. six"),
        nested=(("six", "mixed bullet"), ("six", "nested one")),
        contains=("- mixed bullet", "1. nested one"),
    ),
    Case(
        "list-items-without-paragraphs",
        "<ul><li>alpha</li><li>beta <strong>bold</strong></li><li>gamma<br/>continued</li></ul>",
        lines=("- alpha", "- beta **bold**"),
        contains=("gamma", "continued"),
    ),
    Case(
        "list-item-with-two-paragraphs-and-code",
        '<ol><li><p>Install:</p><ac:structured-macro ac:name="code"><ac:parameter ac:name='
        '"language">bash</ac:parameter><ac:plain-text-body><![CDATA[pip install acme\n'
        "acme --version]]></ac:plain-text-body></ac:structured-macro><p>Then restart.</p></li>"
        "<li><p>Verify.</p></li></ol>",
        lines=("1. Install:", "2. Verify."),
        code=(("bash", "pip install acme\nacme --version"),),
        nested=(("Install:", "Then restart."),),
    ),
    Case(
        "task-list-states",
        "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete"
        "</ac:task-status><ac:task-body>Open task</ac:task-body></ac:task><ac:task>"
        "<ac:task-id>2</ac:task-id><ac:task-status>complete</ac:task-status>"
        "<ac:task-body>Done task</ac:task-body></ac:task></ac:task-list>",
        lines=("- [ ] Open task", "- [x] Done task"),
        absent=("incomplete", "complete"),
    ),
    Case(
        "task-list-nested",
        "<ac:task-list><ac:task><ac:task-id>4</ac:task-id><ac:task-status>incomplete"
        "</ac:task-status><ac:task-body>Parent task</ac:task-body><ac:task-list><ac:task>"
        "<ac:task-id>5</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>"
        "Nested task</ac:task-body></ac:task></ac:task-list></ac:task></ac:task-list>",
        lines=("- [ ] Parent task",),
        contains=("- [x] Nested task",),
        nested=(("Parent task", "Nested task"),),
    ),
    Case(
        "task-with-mention-date-and-marks",
        '<ac:task-list ac:task-list-id="abc"><ac:task><ac:task-id>3</ac:task-id><ac:task-uuid>'
        "0f0e-11</ac:task-uuid><ac:task-status>incomplete</ac:task-status><ac:task-body>"
        '<span class="placeholder-inline-tasks"><ac:link><ri:user ri:account-id="557058:abc"/>'
        '</ac:link> to send report by <time datetime="2026-10-01"/> with <strong>numbers'
        "</strong></span></ac:task-body></ac:task></ac:task-list>",
        lines=("- [ ] @user(557058:abc) to send report by 2026-10-01 with **numbers**",),
        absent=("0f0e-11", "placeholder-inline-tasks"),
    ),
    Case(
        "task-list-pretty-printed",
        "<ac:task-list>\n  <ac:task>\n    <ac:task-id>7</ac:task-id>\n    <ac:task-status>"
        "complete</ac:task-status>\n    <ac:task-body>\n      Water the plants\n    "
        "</ac:task-body>\n  </ac:task>\n</ac:task-list>",
        lines=("- [x] Water the plants",),
    ),
    Case(
        "decision-list",
        '<ac:adf-extension><ac:adf-node type="decision-list"><ac:adf-attribute key="local-id">'
        'decision-list-1</ac:adf-attribute><ac:adf-node type="decision-item">'
        '<ac:adf-attribute key="local-id">decision-1</ac:adf-attribute><ac:adf-attribute '
        'key="state">DECIDED</ac:adf-attribute><ac:adf-content>Use PostgreSQL 16.</ac:adf-content>'
        '</ac:adf-node></ac:adf-node><ac:adf-fallback><ul class="decision-list"><li>Use '
        "PostgreSQL 16.</li></ul></ac:adf-fallback></ac:adf-extension>",
        contains=("Decision", "Use PostgreSQL 16."),
        absent=("decision-list-1", "DECIDED", "local-id"),
    ),
    # --- links, mentions, images, emoticons, dates -----------------------------------------
    Case(
        "page-links",
        '<p>Read <ac:link><ri:page ri:content-title="Handoff Home"/></ac:link> and '
        '<ac:link><ri:page ri:space-key="OPS" ri:content-title="On-call Guide"/>'
        "<ac:plain-text-link-body><![CDATA[the on-call guide]]></ac:plain-text-link-body>"
        '</ac:link> and <ac:link ac:card-appearance="inline"><ri:page ri:content-title='
        '"Glossary" ri:version-at-save="3"/><ac:link-body>our <em>glossary</em></ac:link-body>'
        "</ac:link>.</p>",
        contains=("Read Handoff Home and the on-call guide and our *glossary*.",),
        absent=("version-at-save", "card-appearance"),
    ),
    Case(
        "blog-post-space-and-url-links",
        '<p><ac:link><ri:blog-post ri:content-title="Q3 Update" ri:posting-day="2024/07/01"/>'
        '</ac:link>, <ac:link><ri:space ri:space-key="DOCS"/></ac:link>, <ac:link><ri:url '
        'ri:value="https://status.example.com"/><ac:plain-text-link-body><![CDATA[status page]]>'
        "</ac:plain-text-link-body></ac:link></p>",
        contains=("Q3 Update", "DOCS", "[status page](https://status.example.com)"),
        absent=("2024/07/01",),
    ),
    Case(
        "user-mentions",
        '<p>Ping <ac:link><ri:user ri:account-id="557058:e1cec712-baf5-4d71-a033-12684497b221"/>'
        '</ac:link>, <ac:link><ri:user ri:userkey="8a7f808a4b2f"/></ac:link> and '
        '<ac:link><ri:user ri:account-id="5b10ac8d82e05b22cc7d4ef5"/><ac:plain-text-link-body>'
        "<![CDATA[Dana Scully]]></ac:plain-text-link-body></ac:link>.</p>",
        contains=(
            "@user(557058:e1cec712-baf5-4d71-a033-12684497b221)",
            "@user(8a7f808a4b2f)",
            "@Dana Scully",
        ),
    ),
    Case(
        "attachment-links",
        '<p>Download <ac:link><ri:attachment ri:filename="report-2024.pdf"/></ac:link> or '
        '<ac:link><ri:attachment ri:filename="notes.txt"><ri:page ri:content-title="Other Page"/>'
        "</ri:attachment><ac:plain-text-link-body><![CDATA[the notes]]></ac:plain-text-link-body>"
        "</ac:link>.</p>",
        contains=("[report-2024.pdf](report-2024.pdf)", "[the notes](notes.txt)"),
    ),
    Case(
        "attached-images",
        '<p><ac:image ac:alt="Architecture diagram" ac:width="600"><ri:attachment '
        'ri:filename="architecture.png" ri:version-at-save="2"/></ac:image></p>'
        '<ac:image ac:align="center" ac:layout="center"><ri:attachment ri:filename="flow.svg"/>'
        "</ac:image>",
        contains=("![Architecture diagram](architecture.png)", "![flow.svg](flow.svg)"),
        absent=("600", "center"),
    ),
    Case(
        "url-image-and-html-image",
        '<ac:image ac:width="240"><ri:url ri:value="https://cdn.example.com/logo.svg"/>'
        '</ac:image><p><img src="https://example.com/chart.png" alt="Weekly chart"/></p>',
        contains=(
            "](https://cdn.example.com/logo.svg)",
            "![Weekly chart](https://example.com/chart.png)",
        ),
    ),
    Case(
        "image-with-caption-and-spaces-in-name",
        '<ac:image ac:alt="Login screen"><ri:attachment ri:filename="login screen (v2).png"/>'
        "<ac:caption><p>The new login screen</p></ac:caption></ac:image>",
        contains=("![Login screen](<login screen (v2).png>)", "The new login screen"),
    ),
    Case(
        "emoticons",
        '<p>Done <ac:emoticon ac:name="tick"/> failed <ac:emoticon ac:name="cross"/> '
        '<ac:emoticon ac:name="smile"/> <ac:emoticon ac:name="blue-star" ac:emoji-shortname='
        '":rocket:" ac:emoji-id="1f680" ac:emoji-fallback="🚀"/> <ac:emoticon ac:name='
        '"unknown-thing"/></p>',
        contains=("Done ✅", "failed ❌", "🙂", "🚀", ":unknown-thing:"),
    ),
    Case(
        "dates",
        '<p>Due <time datetime="2026-09-24"/> and <time datetime="2027-01-01"/>.</p>',
        contains=("Due 2026-09-24 and 2027-01-01.",),
    ),
    Case(
        "placeholders-dropped",
        "<p>Summary: <ac:placeholder>Type a summary here</ac:placeholder></p><p>Owner: Alice"
        '</p><p><ac:placeholder ac:type="mention">@mention someone</ac:placeholder></p>',
        contains=("Summary:", "Owner: Alice"),
        absent=("Type a summary here", "@mention someone"),
    ),
    Case(
        "inline-comment-markers",
        '<p>The <ac:inline-comment-marker ac:ref="7f3e">retention period</ac:inline-comment-marker>'
        " is 30 days.</p>",
        contains=("The retention period is 30 days.",),
        absent=("7f3e",),
    ),
    # --- tables ----------------------------------------------------------------------------
    Case(
        "table-header-row",
        '<table data-layout="default" ac:local-id="t1"><colgroup><col style="width: 120.0px;"/>'
        '<col style="width: 360.0px;"/></colgroup><tbody><tr><th><p><strong>Service</strong></p>'
        "</th><th><p><strong>Owner</strong></p></th></tr><tr><td><p>billing</p></td><td><p>Team "
        "A</p></td></tr><tr><td><p>search</p></td><td><p>Team B</p></td></tr></tbody></table>",
        tables=((("Service", "Owner"), ("billing", "Team A"), ("search", "Team B")),),
        absent=("120.0px", "data-layout"),
    ),
    Case(
        "table-thead-and-tbody",
        "<table><thead><tr><th>Key</th><th>Default</th></tr></thead><tbody><tr><td>timeout</td>"
        "<td>30s</td></tr><tr><td>retries</td><td>3</td></tr></tbody></table>",
        tables=((("Key", "Default"), ("timeout", "30s"), ("retries", "3")),),
    ),
    Case(
        "table-header-column",
        "<table><tbody><tr><th><p>Owner</p></th><td><p>Team A</p></td></tr><tr><th><p>Status"
        "</p></th><td><p>Approved</p></td></tr></tbody></table>",
        tables=((("Owner", "Team A"), ("Status", "Approved")),),
    ),
    Case(
        "table-without-header",
        "<table><tbody><tr><td>a1</td><td>b1</td></tr><tr><td>a2</td><td>b2</td></tr></tbody>"
        "</table>",
        tables=((("a1", "b1"), ("a2", "b2")),),
    ),
    Case(
        "table-colspan-and-rowspan",
        '<table><tbody><tr><th><p>A</p></th><th colspan="2"><p>Pair</p></th></tr><tr>'
        '<td rowspan="2"><p>tall</p></td><td><p>a</p></td><td><p>b</p></td></tr><tr>'
        '<td colspan="2"><p>wide</p></td></tr></tbody></table>',
        tables=((("A", "Pair", "Pair"), ("tall", "a", "b"), ("tall", "wide", "")),),
    ),
    Case(
        "table-cells-with-lists-and-paragraphs",
        "<table><tbody><tr><th>Step</th><th>Notes</th></tr><tr><td>1</td><td><p>First line.</p>"
        "<p>Second line.</p></td></tr><tr><td>2</td><td><ul><li>alpha</li><li>beta</li></ul>"
        "</td></tr></tbody></table>",
        tables=(
            (
                ("Step", "Notes"),
                ("1", "First line.<br>Second line."),
                ("2", "- alpha<br>- beta"),
            ),
        ),
    ),
    Case(
        "table-cell-with-pipes-and-inline-code",
        "<table><tbody><tr><th>Command</th><th>Meaning</th></tr><tr><td><code>a | b</code></td>"
        "<td>pipe a into b</td></tr><tr><td>x||y</td><td>or</td></tr></tbody></table>",
        tables=((("Command", "Meaning"), ("`a | b`", "pipe a into b"), ("x||y", "or")),),
    ),
    Case(
        "table-cell-with-one-line-code-macro",
        "<table><tbody><tr><th>Tool</th><th>Install</th></tr><tr><td>acme</td><td>"
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash'
        "</ac:parameter><ac:plain-text-body><![CDATA[pip install acme]]></ac:plain-text-body>"
        "</ac:structured-macro></td></tr></tbody></table>",
        tables=((("Tool", "Install"), ("acme", "`pip install acme`")),),
        absent=("bash",),
    ),
    Case(
        "table-with-multiline-code-falls-back-to-rows",
        "<table><tbody><tr><th>Step</th><th>Command</th><th>Expected</th></tr><tr><td>1</td><td>"
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash'
        "</ac:parameter><ac:plain-text-body><![CDATA[kubectl get pods\nkubectl get svc]]>"
        "</ac:plain-text-body></ac:structured-macro></td><td>All pods Running</td></tr><tr>"
        "<td>2</td><td>curl /health</td><td>HTTP 200</td></tr></tbody></table>",
        code=(("bash", "kubectl get pods\nkubectl get svc"),),
        contains=(
            "Step: 1",
            "Command:",
            "Expected: All pods Running",
            "Step: 2",
            "Command: curl /health",
            "Expected: HTTP 200",
        ),
        order=("Step: 1", "kubectl get pods", "All pods Running", "Step: 2", "HTTP 200"),
    ),
    Case(
        "nested-table",
        "<table><tbody><tr><th>Region</th><th>Hosts</th></tr><tr><td>eu-west</td><td><table>"
        "<tbody><tr><th>Host</th><th>Role</th></tr><tr><td>db-1</td><td>primary</td></tr><tr>"
        "<td>db-2</td><td>replica</td></tr></tbody></table></td></tr></tbody></table>",
        contains=("Region: eu-west", "Hosts:"),
        tables=((("Host", "Role"), ("db-1", "primary"), ("db-2", "replica")),),
    ),
    Case(
        "table-with-task-list-and-mention-cells",
        "<table><tbody><tr><th>Item</th><th>Owner</th><th>Done</th></tr><tr><td>Docs</td><td>"
        '<ac:link><ri:user ri:account-id="557058:ab12"/></ac:link></td><td><ac:task-list>'
        "<ac:task><ac:task-id>9</ac:task-id><ac:task-status>complete</ac:task-status>"
        "<ac:task-body>reviewed</ac:task-body></ac:task></ac:task-list></td></tr></tbody></table>",
        tables=((("Item", "Owner", "Done"), ("Docs", "@user(557058:ab12)", "- [x] reviewed")),),
    ),
    Case(
        "table-two-header-rows",
        '<table><tbody><tr><th>Metric</th><th colspan="2">Latency</th></tr><tr><th>Name</th>'
        "<th>p50</th><th>p99</th></tr><tr><td>search</td><td>12ms</td><td>80ms</td></tr></tbody>"
        "</table>",
        tables=((("Metric / Name", "Latency / p50", "Latency / p99"), ("search", "12ms", "80ms")),),
    ),
    Case(
        "empty-table-cells",
        "<table><tbody><tr><th>A</th><th>B</th></tr><tr><td></td><td><p><br/></p></td></tr><tr>"
        "<td>x</td><td></td></tr></tbody></table>",
        tables=((("A", "B"), ("", ""), ("x", "")),),
    ),
    # --- layouts ---------------------------------------------------------------------------
    Case(
        "layout-every-cell-in-reading-order",
        '<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell><p>single 1</p>'
        '</ac:layout-cell></ac:layout-section><ac:layout-section ac:type="two_left_sidebar">'
        "<ac:layout-cell><p>sidebar</p></ac:layout-cell><ac:layout-cell><p>main</p>"
        '</ac:layout-cell></ac:layout-section><ac:layout-section ac:type="three_equal">'
        "<ac:layout-cell><p>c1</p></ac:layout-cell><ac:layout-cell><p>c2</p></ac:layout-cell>"
        "<ac:layout-cell><p>c3</p></ac:layout-cell></ac:layout-section></ac:layout>",
        lines=("single 1", "sidebar", "main", "c1", "c2", "c3"),
        order=("single 1", "sidebar", "main", "c1", "c2", "c3"),
        absent=("two_left_sidebar", "three_equal"),
    ),
    Case(
        "layout-with-panel-and-table",
        '<ac:layout><ac:layout-section ac:type="two_equal" ac:breakout-mode="wide">'
        '<ac:layout-cell><ac:structured-macro ac:name="info"><ac:rich-text-body><p>panel in '
        "layout</p></ac:rich-text-body></ac:structured-macro></ac:layout-cell><ac:layout-cell>"
        "<table><tbody><tr><td><p>table in layout</p></td></tr></tbody></table></ac:layout-cell>"
        "</ac:layout-section></ac:layout>",
        contains=("> **Info:** panel in layout", "| table in layout |"),
        absent=("wide",),
    ),
    # --- shapes seen on real pages ---------------------------------------------------------
    Case(
        "cloud-editor-attributes-and-empty-paragraphs",
        '<p local-id="p1" /><h2 local-id="h1">Scope <ac:emoticon ac:name="information" />'
        '</h2><p local-id="p2">In scope: <strong>EU</strong> only.</p><p><br /></p>'
        '<table data-table-width="760" data-layout="default" ac:local-id="t9"><tbody><tr>'
        '<th data-highlight-colour="#f4f5f7"><p>Region</p></th></tr><tr><td><p>eu-west-1</p>'
        "</td></tr></tbody></table><p />",
        lines=("## Scope ℹ️", "In scope: **EU** only."),
        tables=((("Region",), ("eu-west-1",)),),
        absent=("local-id", "#f4f5f7", "760"),
    ),
    Case(
        "status-and-mention-in-heading-and-cells",
        '<h3>Phase 2 <ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Blue'
        '</ac:parameter><ac:parameter ac:name="title">PLANNED</ac:parameter></ac:structured-macro>'
        "</h3><table><tbody><tr><th>Owner</th><th>State</th></tr><tr><td><ac:link><ri:user "
        'ri:account-id="557058:9f"/></ac:link></td><td><ac:structured-macro ac:name="status">'
        '<ac:parameter ac:name="title">ON TRACK</ac:parameter></ac:structured-macro></td></tr>'
        "</tbody></table>",
        lines=("### Phase 2 [PLANNED]",),
        tables=((("Owner", "State"), ("@user(557058:9f)", "[ON TRACK]")),),
        absent=("Blue",),
    ),
    Case(
        "ordered-list-and-image-in-table-cells",
        "<table><tbody><tr><th>Step</th><th>Screenshot</th></tr><tr><td><ol><li>Open settings"
        "</li><li>Click <em>Save</em></li></ol></td><td><ac:image><ri:attachment "
        'ri:filename="save.png"/></ac:image></td></tr></tbody></table>',
        tables=(
            (
                ("Step", "Screenshot"),
                ("1. Open settings<br>2. Click *Save*", "![save.png](save.png)"),
            ),
        ),
    ),
    Case(
        "section-row-spanning-all-columns",
        '<table><tbody><tr><th>Setting</th><th>Value</th></tr><tr><th colspan="2">Database'
        '</th></tr><tr><td>pool size</td><td>20</td></tr><tr><th colspan="2">Cache</th></tr>'
        "<tr><td>ttl</td><td>300s</td></tr></tbody></table>",
        tables=(
            (
                ("Setting", "Value"),
                ("Database", ""),
                ("pool size", "20"),
                ("Cache", ""),
                ("ttl", "300s"),
            ),
        ),
    ),
    Case(
        "task-with-nested-bullets-in-body",
        "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete"
        "</ac:task-status><ac:task-body>Prepare the demo<ul><li>slides</li><li>data</li></ul>"
        "</ac:task-body></ac:task><ac:task><ac:task-id>2</ac:task-id><ac:task-status>complete"
        "</ac:task-status><ac:task-body>Book the room</ac:task-body></ac:task></ac:task-list>",
        lines=("- [ ] Prepare the demo", "- [x] Book the room"),
        nested=(("Prepare the demo", "slides"), ("Prepare the demo", "data")),
    ),
    Case(
        "pre-with-code-and-language-class",
        '<pre><code class="language-yaml">replicas: 3\nimage: "api:1.2"\n  # note</code></pre>',
        code=(("yaml", 'replicas: 3\nimage: "api:1.2"\n  # note'),),
    ),
    Case(
        "diagram-and-tab-macros",
        '<ac:structured-macro ac:name="drawio"><ac:parameter ac:name="diagramName">network-v3'
        '</ac:parameter><ac:parameter ac:name="revision">7</ac:parameter></ac:structured-macro>'
        '<ac:structured-macro ac:name="ui-tabs"><ac:rich-text-body><ac:structured-macro '
        'ac:name="ui-tab"><ac:parameter ac:name="title">Linux</ac:parameter><ac:rich-text-body>'
        "<p>apt install acme</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro "
        'ac:name="ui-tab"><ac:parameter ac:name="title">macOS</ac:parameter><ac:rich-text-body>'
        "<p>brew install acme</p></ac:rich-text-body></ac:structured-macro></ac:rich-text-body>"
        "</ac:structured-macro>",
        order=("apt install acme", "brew install acme"),
        absent=("network-v3",),
    ),
    Case(
        "inline-excerpt-inside-sentence",
        '<p>Summary: <ac:structured-macro ac:name="excerpt"><ac:parameter ac:name='
        '"atlassian-macro-output-type">INLINE</ac:parameter><ac:rich-text-body>billing runs '
        "nightly</ac:rich-text-body></ac:structured-macro> at 02:00.</p>",
        contains=("Summary: billing runs nightly at 02:00.",),
        absent=("INLINE",),
    ),
    Case(
        "adf-extension-unknown-node-uses-fallback",
        '<ac:adf-extension><ac:adf-node type="extension"><ac:adf-attribute key="extension-key">'
        "acme-chart</ac:adf-attribute></ac:adf-node><ac:adf-fallback><p>Chart: weekly signups"
        "</p></ac:adf-fallback></ac:adf-extension>",
        lines=("Chart: weekly signups",),
        absent=("acme-chart", "extension-key"),
    ),
    Case(
        "jira-macro-in-list-item",
        '<ul><li>Fix login bug <ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">'
        "AUTH-77</ac:parameter></ac:structured-macro></li><li>Ship</li></ul>",
        lines=("- Fix login bug AUTH-77", "- Ship"),
    ),
    # --- malformed and edge input ----------------------------------------------------------
    Case("empty-string", "", empty=True),
    Case("whitespace-only", " \n\t  ", empty=True),
    Case("empty-paragraphs", "<p></p><p> </p><p>&nbsp;</p><p><br/></p>", empty=True),
    Case(
        "unclosed-tags",
        "<p>First <strong>bold<p>Second paragraph<ul><li>item one<li>item two</ul><p>Last",
        contains=("First", "bold", "Second paragraph", "item one", "item two", "Last"),
    ),
    Case(
        "bare-ampersands-and-unknown-entities",
        "<p>R&D and Q&A &bogus; &#9999999; AT&T</p>",
        contains=("R&D and Q&A", "AT&T"),
    ),
    Case(
        "unknown-namespace-prefixes",
        '<p>Hello <foo:widget foo:size="3">inside widget</foo:widget> <at:var at:name="x"/>'
        "world</p>",
        contains=("Hello", "inside widget", "world"),
        absent=("foo:", "at:"),
    ),
    Case(
        "deeply-nested-lists-20-levels",
        "".join(f"<ul><li>level {i:02d}" for i in range(20)) + "</li></ul>" * 20,
        contains=tuple(f"level {i:02d}" for i in range(20)),
        nested=tuple((f"level {i:02d}", f"level {i + 1:02d}") for i in range(19)),
    ),
    Case(
        "deeply-nested-macros",
        '<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Outer'
        '</ac:parameter><ac:rich-text-body><ac:structured-macro ac:name="note">'
        '<ac:rich-text-body><ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">'
        "Inner</ac:parameter><ac:rich-text-body><p>deep text</p><ac:structured-macro "
        'ac:name="code"><ac:parameter ac:name="language">json</ac:parameter>'
        '<ac:plain-text-body><![CDATA[{"a": [1, 2]}]]></ac:plain-text-body>'
        "</ac:structured-macro></ac:rich-text-body></ac:structured-macro></ac:rich-text-body>"
        "</ac:structured-macro></ac:rich-text-body></ac:structured-macro>",
        contains=("Outer", "Inner", "deep text"),
        code=(("json", '{"a": [1, 2]}'),),
    ),
    Case(
        "stray-closing-tags-and-truncation",
        '<p>kept one</p></div></td><p>kept two</p><ac:structured-macro ac:name="info">'
        "<ac:rich-text-body><p>truncated pan",
        contains=("kept one", "kept two", "truncated pan"),
    ),
    Case(
        "control-characters",
        "<p>tab\there\x0bvertical\x01ctl</p>",
        contains=("tab here", "vertical", "ctl"),
        absent=("\x0b", "\x01"),
    ),
    Case(
        "text-outside-any-element",
        'Loose text before <p>a paragraph</p> and loose text after <ac:emoticon ac:name="smile"/>',
        contains=("Loose text before", "a paragraph", "and loose text after"),
    ),
]
