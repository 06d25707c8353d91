"""The official MCP Python SDK (a legacy session) across a failover: initialize and call a tool,
print READY, wait until the file FLAG exists (meanwhile the test stops the server and points
the address at another one), then call the tool again in the same session. Prints one JSON
object with what it saw, for the Rust test to check.

Usage: sdk_failover.py URL FLAG
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def text_of(result) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


async def main(url: str, flag: str) -> None:
    report: dict = {"initializations": 0}
    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            report["initializations"] += 1
            first = await session.call_tool("search_docs", {"query": "health check"})
            report["firstIsError"] = bool(first.is_error)
            print("READY", flush=True)
            for _ in range(600):
                if os.path.exists(flag):
                    break
                await asyncio.sleep(0.05)
            second = await session.call_tool("search_docs", {"query": "draining"})
            report["secondIsError"] = bool(second.is_error)
            report["secondText"] = text_of(second)[:200]
            tools = await session.list_tools()
            report["tools"] = sorted(t.name for t in tools.tools)
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
