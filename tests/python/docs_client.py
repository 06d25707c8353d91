"""The official MCP Python SDK (legacy sessions) against the documentation tools: every tool,
one resource, the errors a model would make. Prints one JSON report for the Rust test.

Usage: docs_client.py URL
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def text_of(result) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


async def main(url: str) -> None:
    report: dict = {}
    async with streamable_http_client(url) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            init = await session.initialize()
            report["protocolVersion"] = str(init.protocol_version)
            report["resourcesListChanged"] = bool(
                init.capabilities.resources and init.capabilities.resources.list_changed
            )
            tools = await session.list_tools()
            report["tools"] = sorted(t.name for t in tools.tools)
            report["outputSchemas"] = sorted(t.name for t in tools.tools if t.output_schema)

            search = await session.call_tool("search_docs", {"query": "deregistration delay", "limit": 3})
            report["search"] = search.structured_content
            report["searchIsError"] = bool(search.is_error)

            first = search.structured_content["hits"][0]
            section = await session.call_tool("read_doc", {"path": first["path"], "section": first["anchor"]})
            report["section"] = section.structured_content

            chunk = await session.call_tool("read_doc", {"path": "configuration.md", "max_chars": 500})
            report["chunk"] = chunk.structured_content
            rest = await session.call_tool(
                "read_doc", {"path": "configuration.md", "offset": chunk.structured_content["nextOffset"], "max_chars": 50000}
            )
            report["rest"] = rest.structured_content

            listing = await session.call_tool("list_docs", {})
            report["list"] = [p["path"] for p in listing.structured_content["pages"]]

            resources = await session.list_resources()
            report["resources"] = [str(r.uri) for r in resources.resources]
            page = await session.read_resource("docs://operations.md")
            report["resourceText"] = page.contents[0].text[:200]
            templates = await session.list_resource_templates()
            report["templates"] = [t.uri_template for t in templates.resource_templates]
            part = await session.read_resource("docs://operations.md?section=health-endpoint")
            report["resourceSection"] = part.contents[0].text[:200]

            unknown = await session.call_tool("read_doc", {"path": "operation.md"})
            report["unknownPath"] = {"isError": bool(unknown.is_error), "text": text_of(unknown)}
            empty = await session.call_tool("search_docs", {"query": "   "})
            report["emptyQuery"] = {"isError": bool(empty.is_error), "text": text_of(empty)}
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
