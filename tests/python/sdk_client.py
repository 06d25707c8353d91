"""The official MCP Python SDK as a client: initialize, list tools, call one, read a resource
when asked, close. Prints one JSON object with what it saw, for the Rust test to check.

Usage: sdk_client.py URL [TOOL [RESOURCE_URI]]
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def main(url: str, tool: str | None, resource: str | None) -> None:
    report: dict = {}
    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            report["protocolVersion"] = str(init.protocol_version)
            report["serverName"] = init.server_info.name
            report["serverVersion"] = init.server_info.version
            tools = await session.list_tools()
            report["tools"] = [t.name for t in tools.tools]
            if tool:
                result = await session.call_tool(tool, {})
                report["isError"] = bool(result.is_error)
                report["text"] = [c.text for c in result.content if getattr(c, "type", "") == "text"]
            if resource:
                contents = await session.read_resource(resource)
                report["resource"] = [getattr(c, "text", None) for c in contents.contents]
    print(json.dumps(report))


if __name__ == "__main__":
    args = sys.argv[1:] + [None, None]
    asyncio.run(main(args[0], args[1], args[2]))
