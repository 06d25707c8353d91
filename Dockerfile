# syntax=docker/dockerfile:1
# The docs-mcp server: built in a Rust image, shipped on a distroless base as a non-root user.
# The documentation is compiled into the binary, so the final image holds one file.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies first, so edits to the sources reuse the dependency layer.
COPY Cargo.toml Cargo.lock ./
COPY mcp-server/Cargo.toml mcp-server/Cargo.toml
COPY alb-timeout-lambda/Cargo.toml alb-timeout-lambda/Cargo.toml
COPY tests/Cargo.toml tests/Cargo.toml
RUN mkdir -p mcp-server/src alb-timeout-lambda/src tests/src \
 && echo 'fn main() {}' > mcp-server/src/main.rs && touch mcp-server/src/lib.rs \
 && echo 'fn main() {}' > mcp-server/build.rs \
 && echo 'fn main() {}' > alb-timeout-lambda/src/main.rs && touch alb-timeout-lambda/src/lib.rs \
 && touch tests/src/lib.rs \
 && cargo build --release --locked -p mcp-server \
 && rm -rf mcp-server/src mcp-server/build.rs
COPY mcp-server mcp-server
COPY docs docs
COPY README.md README.md
# Touch the sources so cargo rebuilds them over the placeholder build.
RUN touch mcp-server/src/main.rs mcp-server/src/lib.rs mcp-server/build.rs \
 && cargo build --release --locked -p mcp-server \
 && cp target/release/mcp-server /mcp-server

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /mcp-server /usr/local/bin/mcp-server
# Listen on every interface in the container, log JSON for CloudWatch.
ENV HOST=0.0.0.0 \
    PORT=3100 \
    LOG_FORMAT=json
EXPOSE 3100
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/mcp-server"]
