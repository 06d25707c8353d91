"""The official MCP Python SDK calling the documentation tools with an API key in a header
(legacy session: initialize, list tools, search). Prints one JSON report for the Rust test.

Usage: sdk_api_key.py URL HEADER VALUE
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main(url: str, header: str, value: str) -> None:
    report: dict = {}
    async with create_mcp_http_client(headers={header: value}) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                report["tools"] = sorted(t.name for t in tools.tools)
                result = await session.call_tool("search_docs", {"query": "drain"})
                report["isError"] = bool(result.is_error)
                report["text"] = "".join(getattr(c, "text", "") for c in result.content)
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
