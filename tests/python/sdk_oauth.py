"""The official MCP Python SDK as an OAuth client of the server: no token at first, so the
server's 401 sends it through the whole MCP authorization discovery (the protected resource
metadata named in WWW-Authenticate, then the issuer's metadata), then the client credentials
grant at the issuer's token endpoint, then the tools with the token. Prints one JSON report.

Usage: sdk_oauth.py URL CLIENT_ID CLIENT_SECRET SCOPE
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession
from mcp.client.auth import TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken


class Memory(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def main(url: str, client_id: str, secret: str, scope: str) -> None:
    report: dict = {}
    storage = Memory()
    auth = ClientCredentialsOAuthProvider(
        server_url=url,
        storage=storage,
        client_id=client_id,
        client_secret=secret,
        scope=scope,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                report["tools"] = sorted(t.name for t in tools.tools)
                result = await session.call_tool("search_docs", {"query": "drain"})
                report["isError"] = bool(result.is_error)
                report["text"] = "".join(getattr(c, "text", "") for c in result.content)
    report["gotToken"] = storage.tokens is not None
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
