"""Accessibility and layout checks shared by the browser tests.

axe-core is pinned to AXE_VERSION and installed from the npm registry into
tests/browser/node_modules (gitignored) the first time a test needs it; nothing is fetched
while a page is tested. Pages keep their real Content-Security-Policy: the script is added
to the browser context as an init script, which the policy does not govern.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_PREFIX = Path(__file__).parent
AXE_SCRIPT = AXE_PREFIX / "node_modules" / "axe-core" / "axe.min.js"
# Impacts that fail a page; "minor" findings are left to judgement.
FAILING_IMPACTS = ("moderate", "serious", "critical")


class AxeUnavailable(RuntimeError):
    pass


def _installed(script: Path) -> bool:
    try:
        package = json.loads(script.with_name("package.json").read_text())
        return script.is_file() and package["version"] == AXE_VERSION
    except (OSError, ValueError, KeyError):
        return False


def install_axe() -> Path:
    """The path of axe.min.js of the pinned version, running `npm install` if needed."""
    if _installed(AXE_SCRIPT):
        return AXE_SCRIPT
    command = ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix",
               str(AXE_PREFIX), f"axe-core@{AXE_VERSION}"]
    how = (f"Install it with: {' '.join(command)} "
           "(needs Node.js with npm and access to the npm registry).")
    if shutil.which("npm") is None:
        raise AxeUnavailable(f"axe-core {AXE_VERSION} is not installed and npm is missing. {how}")
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=300)
    except subprocess.CalledProcessError as error:
        said = " / ".join(error.stderr.strip().splitlines()[:3])[:500]
        raise AxeUnavailable(f"Could not install axe-core {AXE_VERSION} from the npm registry "
                             f"(offline?): {said}\n{how}") from error
    except subprocess.TimeoutExpired as error:
        raise AxeUnavailable(f"Installing axe-core {AXE_VERSION} timed out. {how}") from error
    if not _installed(AXE_SCRIPT):
        raise AxeUnavailable(f"npm ran, but {AXE_SCRIPT} is not axe-core {AXE_VERSION}. {how}")
    return AXE_SCRIPT


def axe_violations(page) -> list[dict]:
    """axe-core's violations of impact moderate, serious or critical on the page as it is
    now. The context must have the script as an init script (add_init_script)."""
    found = page.evaluate("""async () => {
        const result = await window.axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))
        }));
    }""")
    return [v for v in found if v["impact"] in FAILING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"    [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:4]:
            summary = " ".join((node["summary"] or "").split())[:260]
            lines.append(f"        {node['target']} -- {summary}")
        if len(v["nodes"]) > 4:
            lines.append(f"        ... and {len(v['nodes']) - 4} more")
    return "\n".join(lines)


def sideways_overflow(page) -> dict | None:
    """None if the page fits its viewport; else the widths and the widest offenders."""
    return page.evaluate("""() => {
        const root = document.documentElement;
        const width = window.innerWidth;
        if (root.scrollWidth <= root.clientWidth && root.scrollWidth <= width) return null;
        const limit = root.clientWidth;
        const wide = [];
        for (const el of document.body.querySelectorAll("*")) {
            const box = el.getBoundingClientRect();
            if (box.right > limit + 0.5 && box.width > 0) {
                let name = el.tagName.toLowerCase();
                if (el.id) name += "#" + el.id;
                if (el.classList.length) name += "." + [...el.classList].join(".");
                wide.push(name + " right=" + Math.round(box.right));
            }
        }
        return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
                elements: wide.slice(0, 8)};
    }""")


def duplicate_ids(page) -> list[str]:
    """Ids used more than once, but for hidden inputs (the forms' CSRF tokens): nothing
    labels or points at those, and assistive technology never meets them."""
    return page.evaluate("""() => {
        const seen = new Map();
        for (const el of document.querySelectorAll("[id]:not(input[type=hidden])")) {
            seen.set(el.id, (seen.get(el.id) || 0) + 1);
        }
        return [...seen].filter(([, n]) => n > 1).map(([id, n]) => id + " x" + n);
    }""")
