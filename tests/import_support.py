"""Reading an import's report as the command line prints it and as the page draws it, so tests can
compare the two row by row (tests/test_device_import.py, tests/test_sites.py)."""
from __future__ import annotations


def cli_rows(output: str) -> dict[int, tuple[str, str]]:
    """``line N  KEY  STATUS  DETAIL`` lines: line number -> (status, detail)."""
    out = {}
    for line in output.splitlines():
        if line.startswith("line "):
            parts = line.split(None, 4)
            out[int(parts[1])] = (parts[3], parts[4] if len(parts) > 4 else "")
    return out


def texts(node) -> str:
    """All the text in a Dash component tree as JSON."""
    if isinstance(node, (str, int, float)):
        return str(node)
    if isinstance(node, list):
        return "".join(texts(n) for n in node)
    if isinstance(node, dict):
        return texts(node.get("props", {}).get("children"))
    return ""


def page_rows(body: dict, output_id: str) -> dict[int, tuple[str, str]]:
    """The import table's rows in a callback's answer: line number -> (status, detail)."""
    found = {}

    def walk(node):
        if isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict):
            if node.get("type") == "Tr":
                cells = node["props"]["children"]
                if cells and cells[0].get("type") == "Td":
                    line, _, status, detail = (texts(c["props"].get("children")) for c in cells)
                    found[int(line)] = ({"refused": "error"}.get(status, status), detail)
            walk(node.get("props", {}).get("children"))
    walk(body["response"][output_id]["children"])
    return found
